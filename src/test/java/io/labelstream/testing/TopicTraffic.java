package io.labelstream.testing;

import io.labelstream.image.SyntheticImages;
import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.InlineImage;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Supplier;

/** Producing image events to, and reading labels and failures back from, a real broker. */
public final class TopicTraffic {

    private static final AvroSerde<ImageEvent> EVENTS = AvroSerdes.imageEvent();
    private static final AvroSerde<ImageLabels> LABELS = AvroSerdes.imageLabels();
    private static final AvroSerde<ImageFailure> FAILURES = AvroSerdes.imageFailure();

    private final String bootstrap;
    private final Properties security;

    public TopicTraffic(String bootstrap) {
        this(bootstrap, new Properties());
    }

    /** @param security client settings every producer and consumer here also gets (SASL, SSL) */
    public TopicTraffic(String bootstrap, Properties security) {
        this.bootstrap = bootstrap;
        this.security = security;
    }

    public static byte[] event(String id, byte[] image) {
        return EVENTS.encode(ImageEvent.newBuilder().setId(id)
                .setImage(new InlineImage(ByteBuffer.wrap(image), "image/jpeg"))
                .setEventTime(Instant.now()).build());
    }

    /** Publishes {@code count} generated JPEGs with ids {@code prefix-0000…}; returns the ids. */
    public List<String> publishImages(String topic, String prefix, int count, int width, int height) {
        List<String> ids = new ArrayList<>();
        List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
        try (var producer = producer()) {
            for (int i = 0; i < count; i++) {
                String id = String.format("%s-%04d", prefix, i);
                ids.add(id);
                sent.add(producer.send(new ProducerRecord<>(topic, id.getBytes(StandardCharsets.UTF_8),
                        event(id, SyntheticImages.jpeg(width, height, prefix.hashCode() * 31L + i)))));
            }
            producer.flush();
            // A record the broker refused fails here, saying why, not minutes later as "missing" outputs.
            for (int i = 0; i < sent.size(); i++) {
                try {
                    sent.get(i).get();
                } catch (Exception e) {
                    throw new AssertionError("publishing " + ids.get(i) + " to " + topic + " failed", e);
                }
            }
        }
        return ids;
    }

    /** Publishes every (key, value) with one producer, in order, so they arrive together. */
    public void publishAll(String topic, java.util.LinkedHashMap<String, byte[]> records) {
        try (var producer = producer()) {
            records.forEach((k, v) -> producer.send(new ProducerRecord<>(topic, k.getBytes(StandardCharsets.UTF_8), v)));
            producer.flush();
        }
    }

    public void publishRaw(String topic, String key, byte[] value) {
        try (var producer = producer()) {
            producer.send(new ProducerRecord<>(topic, key.getBytes(StandardCharsets.UTF_8), value));
            producer.flush();
        }
    }

    private KafkaProducer<byte[], byte[]> producer() {
        Properties p = new Properties();
        p.putAll(security);
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /** What a read_committed reader saw on the labels and failures topics. */
    public record Outcome(Map<String, Integer> labeledCounts, Map<String, Integer> failedCounts,
                          List<ImageLabels> labels, List<ImageFailure> failures) {

        public int total() {
            return labels.size() + failures.size();
        }

        /** Ids that appear more than once across labels and failures together. */
        public List<String> duplicates() {
            Map<String, Integer> all = new HashMap<>(labeledCounts);
            failedCounts.forEach((k, v) -> all.merge(k, v, Integer::sum));
            return all.entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey).sorted().toList();
        }

        public List<String> missing(List<String> ids) {
            return ids.stream().filter(id -> !labeledCounts.containsKey(id) && !failedCounts.containsKey(id)).toList();
        }
    }

    /** A read_committed consumer of every partition of {@code topics}, from their beginning. */
    public KafkaConsumer<byte[], byte[]> readFromStart(String... topics) {
        Properties p = new Properties();
        p.putAll(security);
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        var consumer = new KafkaConsumer<>(p, new ByteArrayDeserializer(), new ByteArrayDeserializer());
        List<TopicPartition> partitions = new ArrayList<>();
        for (String topic : topics) {
            consumer.partitionsFor(topic, Duration.ofSeconds(30))
                    .forEach(info -> partitions.add(new TopicPartition(topic, info.partition())));
        }
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }

    /**
     * Reads both topics from the beginning, read_committed, until {@code expected} records have been seen and
     * then for {@code settle} more (so that a duplicate arriving late is still counted), or until timeout.
     */
    public Outcome awaitOutcome(String labelsTopic, String failuresTopic, int expected, Duration timeout,
                                Duration settle, Supplier<Throwable> abortIf) {
        Map<String, Integer> labeled = new HashMap<>();
        Map<String, Integer> failed = new HashMap<>();
        List<ImageLabels> labels = new ArrayList<>();
        List<ImageFailure> failures = new ArrayList<>();
        try (var consumer = readFromStart(labelsTopic, failuresTopic)) {
            long deadline = System.nanoTime() + timeout.toNanos();
            long settleUntil = Long.MAX_VALUE;
            while (System.nanoTime() < Math.min(deadline, settleUntil)) {
                Throwable abort = abortIf.get();
                if (abort != null) {
                    throw new AssertionError("pipeline failed while waiting for output", abort);
                }
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (r.topic().equals(labelsTopic)) {
                        ImageLabels l = LABELS.deserializer().deserialize(r.topic(), r.value());
                        labels.add(l);
                        labeled.merge(l.getId(), 1, Integer::sum);
                    } else {
                        ImageFailure f = FAILURES.deserializer().deserialize(r.topic(), r.value());
                        failures.add(f);
                        failed.merge(String.valueOf(f.getId()), 1, Integer::sum);
                    }
                }
                if (settleUntil == Long.MAX_VALUE && labels.size() + failures.size() >= expected) {
                    settleUntil = System.nanoTime() + settle.toNanos();
                }
            }
        }
        return new Outcome(labeled, failed, labels, failures);
    }
}
