package io.labelstream.stream;

import io.labelstream.image.SourceRegion;
import io.labelstream.model.Activation;
import io.labelstream.model.ClassScore;
import io.labelstream.model.ImageMaps;
import io.labelstream.model.ModelId;
import io.labelstream.schema.ActivationMap;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.Header;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModelIdentity;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.SourceBox;
import io.labelstream.schema.SourceCoordinates;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/** Conversions between Kafka records, the engine's results and the Avro records labelstream writes. */
final class Records {

    /** What output records say of a model without a {@code model_version}: their schema's default. */
    static final String UNKNOWN_MODEL_VERSION = ModelIdentity.getClassSchema().getField("version").defaultVal()
            .toString();

    private Records() {
    }

    /**
     * Marks a buffered tombstone: {@code BufferedRecord.value} cannot be null, and a new schema version would keep
     * instances of earlier versions from restoring buffers during a rolling upgrade. Never leaves labelstream.
     */
    static final String TOMBSTONE_HEADER = "labelstream.buffered-tombstone";

    /**
     * Marks a changelogged buffer entry whose value was left in its input topic ({@code buffer.changelog=offsets}):
     * the value is empty and this header is the last. A header, like {@link #TOMBSTONE_HEADER}, and not a schema
     * change, so that the entry stays readable by the schema every instance knows.
     */
    static final String VALUE_IN_INPUT_HEADER = "labelstream.buffered-value-in-input";

    /** An input record as the batch buffer keeps it: its exact bytes, where it came from, and when it arrived. */
    static BufferedRecord buffered(Record<byte[], byte[]> record, RecordMetadata meta, long now) {
        List<Header> headers = toAvro(record.headers());
        if (record.value() == null) {
            headers.add(new Header(TOMBSTONE_HEADER, null));
        }
        return BufferedRecord.newBuilder()
                .setKey(record.key() == null ? null : ByteBuffer.wrap(record.key()))
                .setValue(ByteBuffer.wrap(record.value() == null ? new byte[0] : record.value()))
                .setHeaders(headers)
                .setSource(new SourceCoordinates(meta.topic(), meta.partition(), meta.offset()))
                .setTimestamp(record.timestamp())
                .setBufferedAt(now)
                .build();
    }

    /** The record's value as it arrived: null for a tombstone. */
    static byte[] value(BufferedRecord r) {
        return isTombstone(r) ? null : bytes(r.getValue());
    }

    /** The record's headers as they arrived. */
    static List<Header> headers(BufferedRecord r) {
        return marked(r) ? r.getHeaders().subList(0, r.getHeaders().size() - 1) : r.getHeaders();
    }

    /**
     * The record as the changelog keeps it when only offsets are kept: its value is left to its input topic. A
     * record without a value (a tombstone, an empty value) is kept as it is.
     */
    static BufferedRecord withValueInInput(BufferedRecord r) {
        if (!r.getValue().hasRemaining()) {
            return r;
        }
        List<Header> headers = new ArrayList<>(r.getHeaders());
        headers.add(new Header(VALUE_IN_INPUT_HEADER, null));
        // The all-fields constructor: a builder copied from r would deep-copy the image it is meant to leave out.
        return new BufferedRecord(r.getKey(), ByteBuffer.allocate(0), headers, r.getSource(), r.getTimestamp(),
                r.getBufferedAt());
    }

    /** True when the entry's value must be read back from its input topic. */
    static boolean valueInInput(BufferedRecord r) {
        return markedBy(r, VALUE_IN_INPUT_HEADER);
    }

    /** The entry as it was buffered, with {@code value} read back from its input topic. */
    static BufferedRecord withValue(BufferedRecord entry, byte[] value) {
        return new BufferedRecord(entry.getKey(), ByteBuffer.wrap(value), new ArrayList<>(headers(entry)),
                entry.getSource(), entry.getTimestamp(), entry.getBufferedAt());
    }

    private static boolean isTombstone(BufferedRecord r) {
        return markedBy(r, TOMBSTONE_HEADER);
    }

    /** An entry with an empty value whose last header is {@code marker}: how both markers are written. */
    private static boolean markedBy(BufferedRecord r, String marker) {
        return marker.equals(marker(r));
    }

    /** True when the entry carries either marker, so its value is not the record's and its last header is ours. */
    private static boolean marked(BufferedRecord r) {
        return marker(r) != null;
    }

    /** The entry's marker header's key, or null when the entry is the record as it arrived. */
    private static String marker(BufferedRecord r) {
        List<Header> headers = r.getHeaders();
        if (r.getValue().hasRemaining() || headers.isEmpty()) {
            return null;
        }
        String last = headers.get(headers.size() - 1).getKey();
        return TOMBSTONE_HEADER.equals(last) || VALUE_IN_INPUT_HEADER.equals(last) ? last : null;
    }

    static byte[] key(BufferedRecord r) {
        return r.getKey() == null ? null : bytes(r.getKey());
    }

    static ModelIdentity modelIdentity(ModelId id) {
        return new ModelIdentity(id.name(), id.version() == null ? UNKNOWN_MODEL_VERSION : id.version(), id.sha256());
    }

    /** The best classes, the first {@code explain.top} with their class activation maps when {@code maps} has them. */
    static List<Label> labels(List<ClassScore> top, ImageMaps maps) {
        int explained = maps == null ? 0 : maps.explain().top();
        List<Label> labels = new ArrayList<>(top.size());
        for (ClassScore c : top) {
            labels.add(new Label(c.index(), c.label(), c.score(),
                    labels.size() < explained ? activationMap(maps.activation(c.index())) : null));
        }
        return labels;
    }

    /**
     * {@code flags}, each with the map of the class it fired on when the image's maps are kept for flags: the map
     * one of {@code labels} already carries for that class, or one made for it.
     */
    static List<ModerationFlag> explained(List<ModerationFlag> flags, List<Label> labels, ImageMaps maps) {
        if (maps == null || !maps.explain().forFlags()) {
            return flags;
        }
        for (ModerationFlag f : flags) {
            ActivationMap carried = labels.stream().filter(l -> l.getClassIndex() == f.getClassIndex()
                    && l.getActivation() != null).map(Label::getActivation).findFirst().orElse(null);
            f.setActivation(carried != null ? carried : activationMap(maps.activation(f.getClassIndex())));
        }
        return flags;
    }

    static ActivationMap activationMap(Activation map) {
        SourceRegion box = map.box();
        return new ActivationMap(map.rows(), map.cols(), ByteBuffer.wrap(map.cells()),
                new SourceBox(box.x(), box.y(), box.width(), box.height()));
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

    /** @param model the model whose inference failed on the input; null when none was involved */
    static ImageFailure failure(String id, FailureReason reason, String message, BufferedRecord buffered,
                                ModelId model) {
        return ImageFailure.newBuilder()
                .setId(id)
                .setReason(reason)
                .setMessage(message == null ? reason.name() : message)
                .setSource(buffered.getSource())
                .setOriginalKey(buffered.getKey())
                .setOriginalValue(marked(buffered) ? null : buffered.getValue())
                .setHeaders(headers(buffered))
                .setFailedAt(Instant.now())
                .setModel(model == null ? null : modelIdentity(model))
                .build();
    }
}
