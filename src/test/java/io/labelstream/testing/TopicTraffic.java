package io.labelstream.testing;

import io.labelstream.image.SyntheticImages;
import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.InlineImage;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.awaitility.core.ThrowingRunnable;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.awaitility.Awaitility.await;

/** Producing image events to, and reading labels and failures back from, a real broker. */
public final class TopicTraffic {

    private static final AvroSerde<ImageEvent> EVENTS = AvroSerdes.imageEvent();
    private static final AvroSerde<ImageLabels> LABELS = AvroSerdes.imageLabels();
    private static final AvroSerde<ImageFailure> FAILURES = AvroSerdes.imageFailure();

    /** Every marker's key starts so ({@link #publishMarkers}). */
    public static final String MARKER_PREFIX = "labelstream-test-marker-";
    private static final byte[] MARKER_VALUE = "a test's marker, not an image event".getBytes(StandardCharsets.UTF_8);

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

    /** An ImageEvent whose image is a reference to {@code uri}, fetched by whoever reads it. */
    public static byte[] referenceEvent(String id, String uri) {
        return EVENTS.encode(ImageEvent.newBuilder().setId(id).setImage(new ImageReference(uri, null, null, null))
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
        // One batch in flight: a topic just created can answer NOT_LEADER_OR_FOLLOWER until its broker has applied
        // the new leadership, and with several idempotent batches in flight the retries were seen to loop on
        // OUT_OF_ORDER_SEQUENCE_NUMBER until delivery.timeout.ms, failing a test before it began.
        p.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 1);
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

    /** What is committed to {@code topics}, read from their beginning (see {@link CommittedRecords}). */
    public CommittedRecords committed(String... topics) {
        return new CommittedRecords(this, readFromStart(topics));
    }

    /** Every record committed to {@code topics} up to the end offsets they have now. */
    public List<ConsumerRecord<byte[], byte[]>> readAll(String... topics) {
        try (CommittedRecords outputs = committed(topics)) {
            return new ArrayList<>(outputs.readToEnd(Duration.ofMinutes(2)).records());
        }
    }

    /**
     * Publishes one marker to every partition of {@code topic}, behind everything published there so far, and
     * returns the markers' keys. A marker is not an image event: the pipeline gives it a failure record
     * ({@code INVALID_EVENT}) under the marker's key, and only once it has emitted everything ahead of it in its
     * partition. {@link CommittedRecords} leaves the markers' outputs out of what it counts.
     */
    public Set<String> publishMarkers(String topic) {
        Set<String> keys = new HashSet<>();
        String round = UUID.randomUUID().toString();
        try (var producer = producer()) {
            List<java.util.concurrent.Future<?>> sent = new ArrayList<>();
            for (PartitionInfo partition : producer.partitionsFor(topic)) {
                String key = MARKER_PREFIX + round + "-" + partition.partition();
                keys.add(key);
                sent.add(producer.send(new ProducerRecord<>(topic, partition.partition(),
                        key.getBytes(StandardCharsets.UTF_8), MARKER_VALUE)));
            }
            producer.flush();
            for (var s : sent) {
                try {
                    s.get();
                } catch (Exception e) {
                    throw new AssertionError("publishing a marker to " + topic + " failed", e);
                }
            }
        }
        return keys;
    }

    /** Whether an input or output record's key is a marker's. */
    public static boolean isMarker(byte[] key) {
        return key != null && keyOf(key).startsWith(MARKER_PREFIX);
    }

    static String keyOf(byte[] key) {
        return new String(key, StandardCharsets.UTF_8);
    }

    /**
     * Waits until {@code topic} exists and every partition of it has a leader. Listed is not enough: a producer
     * that writes before every partition has a leader can be told NOT_LEADER for a batch the broker kept, and its
     * retry then fails with OutOfOrderSequence for good (seen once in CI: one partition's images never arrived).
     *
     * @param failFast checked before each look, e.g. that the instance that is to create the topic is alive
     */
    public void awaitTopic(String topic, Duration atMost, ThrowingRunnable failFast) {
        Properties p = new Properties();
        p.putAll(security);
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(p)) {
            await("topic " + topic + " created, every partition led").atMost(atMost)
                    .pollInterval(Duration.ofMillis(100)).failFast(failFast)
                    .until(() -> admin.listTopics().names().get().contains(topic) && allPartitionsLed(admin, topic));
        }
    }

    private static boolean allPartitionsLed(Admin admin, String topic) throws Exception {
        var description = admin.describeTopics(List.of(topic)).allTopicNames().get(30, TimeUnit.SECONDS).get(topic);
        return description.partitions().stream().allMatch(p -> p.leader() != null && !p.leader().isEmpty());
    }

    /**
     * The outcome of everything published to {@code input} so far: reads both topics from the beginning,
     * read_committed, until at least {@code expected} records are in and then until markers published behind
     * them have come out ({@link CommittedRecords#awaitAll}), so that a duplicate is counted too.
     */
    public Outcome awaitOutcome(String input, String labelsTopic, String failuresTopic, int expected,
                                Duration timeout, Supplier<Throwable> abortIf) {
        try (CommittedRecords outputs = committed(labelsTopic, failuresTopic)) {
            return outcome(outputs.awaitAll(input, expected, timeout, abortIf), labelsTopic);
        }
    }

    /** What is out once at least {@code atLeast} records are: progress, not the whole outcome. */
    public Outcome awaitProgress(String labelsTopic, String failuresTopic, int atLeast, Duration timeout,
                                 Supplier<Throwable> abortIf) {
        try (CommittedRecords outputs = committed(labelsTopic, failuresTopic)) {
            return outcome(outputs.awaitAtLeast(atLeast, timeout, abortIf), labelsTopic);
        }
    }

    private static Outcome outcome(CommittedRecords outputs, String labelsTopic) {
        Map<String, Integer> labeled = new HashMap<>();
        Map<String, Integer> failed = new HashMap<>();
        List<ImageLabels> labels = new ArrayList<>();
        List<ImageFailure> failures = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : outputs.records()) {
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
        return new Outcome(labeled, failed, labels, failures);
    }
}
