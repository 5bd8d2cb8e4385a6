package io.labelstream.schema;

import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/**
 * How the values of one topic are written and read: Avro single-object encoding ({@link AvroSerde}), or the
 * Confluent framing under a schema registry ({@link RegistrySerde}), which also reads single-object records.
 */
public interface ValueSerde<T> extends Serde<T> {

    byte[] encode(T record);

    /** Decodes {@code bytes}, waiting for the registry when their writer schema must be fetched first. */
    T decode(byte[] bytes) throws RecordDecodeException;

    /**
     * Decodes {@code bytes} without waiting: when their writer schema has not been fetched yet, throws
     * {@link WriterSchemaPending}, whose future completes once it is known (or known to be unknown).
     */
    default T decodeIfKnown(byte[] bytes) throws RecordDecodeException, WriterSchemaPending {
        return decode(bytes);
    }

    @Override
    default Serializer<T> serializer() {
        return (topic, record) -> record == null ? null : encode(record);
    }

    @Override
    default Deserializer<T> deserializer() {
        return (topic, bytes) -> {
            if (bytes == null) {
                return null;
            }
            try {
                return decode(bytes);
            } catch (RecordDecodeException e) {
                throw new SerializationException(e.getMessage(), e);
            }
        };
    }
}
