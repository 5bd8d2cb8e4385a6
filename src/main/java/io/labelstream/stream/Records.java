package io.labelstream.stream;

import io.labelstream.schema.FailureReason;
import io.labelstream.schema.Header;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.SourceCoordinates;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Conversions between Kafka records and the Avro records labelstream writes. */
final class Records {

    private Records() {
    }

    static List<Header> toAvro(Headers headers) {
        List<Header> list = new ArrayList<>();
        for (org.apache.kafka.common.header.Header h : headers) {
            list.add(new Header(h.key(), h.value() == null ? null : ByteBuffer.wrap(h.value())));
        }
        return list;
    }

    static Headers toKafka(List<Header> headers) {
        RecordHeaders kafka = new RecordHeaders();
        for (Header h : headers) {
            kafka.add(h.getKey(), h.getValue() == null ? null : bytes(h.getValue()));
        }
        return kafka;
    }

    static byte[] bytes(ByteBuffer buffer) {
        if (buffer.hasArray() && buffer.arrayOffset() == 0 && buffer.position() == 0
                && buffer.remaining() == buffer.array().length) {
            return buffer.array();
        }
        byte[] copy = new byte[buffer.remaining()];
        buffer.duplicate().get(copy);
        return copy;
    }

    static ImageFailure failure(String id, FailureReason reason, String message, SourceCoordinates source,
                                byte[] key, byte[] value, List<Header> headers) {
        return ImageFailure.newBuilder()
                .setId(id)
                .setReason(reason)
                .setMessage(message == null ? reason.name() : message)
                .setSource(source)
                .setOriginalKey(key == null ? null : ByteBuffer.wrap(key))
                .setOriginalValue(value == null ? null : ByteBuffer.wrap(value))
                .setHeaders(headers)
                .setFailedAt(Instant.now())
                .build();
    }

    static ImageFailure failure(String id, FailureReason reason, String message, BufferedRecord buffered) {
        return ImageFailure.newBuilder()
                .setId(id)
                .setReason(reason)
                .setMessage(message == null ? reason.name() : message)
                .setSource(buffered.getSource())
                .setOriginalKey(buffered.getKey())
                .setOriginalValue(buffered.getValue())
                .setHeaders(buffered.getHeaders())
                .setFailedAt(Instant.now())
                .build();
    }
}
