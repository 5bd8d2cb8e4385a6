package io.labelstream.schema;

import org.apache.avro.specific.SpecificRecordBase;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/**
 * A topic and the serde of its values (single-object Avro, or Confluent-framed under a registry). Keys are raw bytes on every labelstream topic: the pipeline copies an
 * input's key to its output untouched, whatever the producer put there.
 */
public record Topic<V extends SpecificRecordBase>(String name, ValueSerde<V> valueSerde) {

    /** A record of {@code value} for this topic, keyed by the UTF-8 bytes of {@code key}. */
    public ProducerRecord<byte[], byte[]> record(String key, V value) {
        return new ProducerRecord<>(name, key.getBytes(StandardCharsets.UTF_8), valueSerde.encode(value));
    }

    /** The value of a record read from this topic. */
    public V value(ConsumerRecord<byte[], byte[]> record) {
        return valueSerde.deserializer().deserialize(record.topic(), record.value());
    }
}
