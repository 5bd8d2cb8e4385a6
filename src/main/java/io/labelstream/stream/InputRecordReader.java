package io.labelstream.stream;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.NavigableSet;
import java.util.Set;
import java.util.TreeSet;

/**
 * Reads input records back by offset, for a batch buffer restored from a changelog that kept only where its records
 * are ({@code buffer.changelog=offsets}). Its consumer is configured as Kafka Streams configures its restore
 * consumers (no group, read_committed under exactly-once, the user's security and {@code restore.consumer.}
 * settings), lives for one read and is closed at once: a task reads back only what was buffered when its previous
 * owner stopped.
 */
final class InputRecordReader implements BatchBuffer.InputValues {

    private final Map<String, Object> consumerConfigs;
    private final Duration timeout;

    /** @param timeout how long one read may take in all before the task's start fails (and is retried) */
    InputRecordReader(Map<String, Object> consumerConfigs, Duration timeout) {
        this.consumerConfigs = consumerConfigs;
        this.timeout = timeout;
    }

    /** As Kafka Streams would configure a restore consumer for the application; its API timeout bounds a read. */
    static InputRecordReader of(org.apache.kafka.streams.StreamsConfig streams, String clientId) {
        Map<String, Object> configs = streams.getRestoreConsumerConfigs(clientId);
        Object timeout = configs.getOrDefault(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 60_000);
        return new InputRecordReader(configs, Duration.ofMillis(Long.parseLong(timeout.toString())));
    }

    @Override
    public Map<BatchBuffer.InputOffset, byte[]> read(List<BatchBuffer.InputOffset> wanted) {
        Map<TopicPartition, NavigableSet<Long>> byPartition = new HashMap<>();
        for (BatchBuffer.InputOffset at : wanted) {
            byPartition.computeIfAbsent(new TopicPartition(at.topic(), at.partition()), tp -> new TreeSet<>())
                    .add(at.offset());
        }
        Map<BatchBuffer.InputOffset, byte[]> values = new HashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(consumerConfigs, new ByteArrayDeserializer(),
                new ByteArrayDeserializer())) {
            Map<TopicPartition, Long> starts = consumer.beginningOffsets(byPartition.keySet(), timeout);
            Map<TopicPartition, Long> ends = consumer.endOffsets(byPartition.keySet(), timeout);
            // Records deleted since (retention, DeleteRecords) are not read: the fetch starts at the log's start at
            // the earliest, and whatever is not found is missing from the answer.
            Map<TopicPartition, Long> from = new HashMap<>();
            for (var e : byPartition.entrySet()) {
                long start = Math.max(e.getValue().first(), starts.getOrDefault(e.getKey(), 0L));
                if (start <= e.getValue().last() && start < ends.getOrDefault(e.getKey(), 0L)) {
                    from.put(e.getKey(), start);
                }
            }
            Set<TopicPartition> open = new HashSet<>(from.keySet());
            consumer.assign(open);
            from.forEach(consumer::seek);
            while (!open.isEmpty()) {
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("could not read back " + wanted.size() + " buffered records from "
                            + open + " within " + timeout.toMillis() + " ms (" + ConsumerConfig
                            .DEFAULT_API_TIMEOUT_MS_CONFIG + ")");
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    NavigableSet<Long> offsets = byPartition.get(new TopicPartition(r.topic(), r.partition()));
                    if (offsets.contains(r.offset()) && r.value() != null) {
                        values.put(new BatchBuffer.InputOffset(r.topic(), r.partition(), r.offset()), r.value());
                    }
                }
                List<TopicPartition> done = new ArrayList<>();
                for (TopicPartition tp : open) {
                    long position = consumer.position(tp);
                    if (position > byPartition.get(tp).last() || position >= ends.get(tp)) {
                        done.add(tp);
                    }
                }
                consumer.pause(done);
                done.forEach(open::remove);
            }
        }
        return values;
    }
}
