package io.labelstream.bench;

import io.labelstream.broker.KafkaClients;
import io.labelstream.broker.TopicAdmin;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageEvents;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import io.labelstream.stream.Pipeline;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The pipeline on a real broker, as a user runs it: {@link Pipeline#start} with settings, each run with its own
 * topics and application id. Labels are counted by a read_committed consumer, so an image counts only once its
 * label's transaction has committed.
 */
final class PipelineRuns {

    /**
     * Pipeline settings that are the same for every run: the rest are labelstream's defaults.
     *
     * @param runJvm JVM options of a {@code labelstream run} started in its own JVM
     */
    record Setup(String bootstrapServers, int partitions, int streamThreads, int threads, Map<String, String> extra,
                 List<String> runJvm) {
    }

    /**
     * @param steadyImagesPerSecond images over the time from the pipeline reaching RUNNING to the last label
     * @param totalImagesPerSecond  images over the time from {@link Pipeline#start} (start-up included)
     */
    record Backlog(double steadyImagesPerSecond, double totalImagesPerSecond, double startupSeconds,
                   double meanBatch) {
    }

    /**
     * @param latencyMs event time (the producer's send time) to label visible, per image, in the order seen
     * @param sentMs    per image, its send time from the start of the timed run
     * @param batchSize per image, the size of the batch it was labeled in
     * @param commitMeanMs the stream thread's commits over Kafka Streams' last metrics window, during each of which
     *                     it neither reads nor starts batches: their mean, in milliseconds
     * @param commitMaxMs  the longest of them
     * @param untimedMs the latencies of the untimed part before, at the same rate
     */
    record Latency(double offeredPerSecond, double[] latencyMs, double[] sentMs, int[] batchSize, double meanBatch,
                   double commitMeanMs, double commitMaxMs, double[] untimedMs) {
    }

    private final Setup setup;
    private final KafkaClients clients;

    PipelineRuns(Setup setup) {
        this.setup = setup;
        this.clients = KafkaClients.of(LabelstreamConfig.of(setup.extra()), setup.bootstrapServers());
    }

    List<String> runJvm() {
        return setup.runJvm();
    }

    /** Pre-loads {@code images} events into a new input topic, then times the pipeline through all of them. */
    Backlog backlog(String name, Path model, List<byte[]> jpegs, int batch, int images) throws Exception {
        LabelstreamConfig config = config(name, model, batch);
        Topics topics = Topics.forConfig(config);
        preload(topics.input(), name, jpegs, images);
        try (LabelingEngine engine = EngineFactory.create(config, Duration.ofMillis(config.transactionTimeoutMs()))) {
            long t0 = System.nanoTime();
            Pipeline pipeline = Pipeline.start(config, setup.bootstrapServers(), engine);
            try (pipeline; var labels = labelsConsumer(topics.labels(), 50)) {
                if (!pipeline.awaitRunning(Duration.ofMinutes(2))) {
                    throw new TimeoutException("pipeline " + name + " did not reach RUNNING in 2 minutes");
                }
                long running = System.nanoTime();
                long batchSum = 0;
                long seen = 0;
                long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
                while (seen < images) {
                    for (ConsumerRecord<byte[], byte[]> r : labels.poll(Duration.ofMillis(100))) {
                        seen++;
                        batchSum += topics.labels().value(r).getBatchSize();
                    }
                    failIfStuck(pipeline, deadline, name);
                }
                long end = System.nanoTime();
                return new Backlog(images / ((end - running) / 1e9), images / ((end - t0) / 1e9),
                        (running - t0) / 1e9, (double) batchSum / seen);
            }
        }
    }

    /**
     * Offers events at a fixed rate for {@code warmup} and then for {@code duration}, each stamped with its send time,
     * and records how long each of the second part took to become a visible label. The first part, at the same rate
     * and not counted, lets both JVMs compile the path at that rate: in the first minute after the capacity run
     * their JIT compilers were seen taking up to a fifth of two vCPUs.
     */
    Latency latency(String name, Path model, List<byte[]> jpegs, int batch, double perSecond, Duration warmup,
                    Duration duration) throws Exception {
        LabelstreamConfig config = config(name, model, batch);
        Topics topics = Topics.forConfig(config);
        createTopic(topics.input());
        PipelineMetrics metrics = PipelineMetrics.inMemory();
        try (LabelingEngine engine = EngineFactory.create(config, Duration.ofMillis(config.transactionTimeoutMs()));
             Pipeline pipeline = Pipeline.start(config, setup.bootstrapServers(), engine, metrics);
             var producer = producer();
             var labels = labelsConsumer(topics.labels(), 5)) {
            if (!pipeline.awaitRunning(Duration.ofMinutes(2))) {
                throw new TimeoutException("pipeline " + name + " did not reach RUNNING in 2 minutes");
            }
            int burst = 4 * batch;
            for (int i = 0; i < burst; i++) {
                producer.send(event(topics.input(), name + "-" + i, jpegs.get(i % jpegs.size()),
                        System.currentTimeMillis()));
            }
            producer.flush();
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(5);
            for (int seen = 0; seen < burst; ) {
                seen += labels.poll(Duration.ofMillis(20)).count();
                failIfStuck(pipeline, deadline, name);
            }
            int untimed = (int) Math.round(perSecond * warmup.toMillis() / 1000.0);
            int offered = (int) Math.round(perSecond * duration.toMillis() / 1000.0);
            int total = untimed + offered;
            double[] latencies = new double[offered];
            double[] sentMs = new double[offered];
            int[] batchSizes = new int[offered];
            double[] untimedMs = new double[untimed];
            int seen = 0;
            int seenUntimed = 0;
            long batchSum = 0;
            long start = System.nanoTime();
            long intervalNanos = (long) (1e9 / perSecond);
            long timedFromWallMs = System.currentTimeMillis() + untimed * intervalNanos / 1_000_000;
            int sent = 0;
            deadline = start + warmup.toNanos() + duration.toNanos() + TimeUnit.MINUTES.toNanos(5);
            while (seen < offered) {
                long now = System.nanoTime();
                while (sent < total && now >= start + sent * intervalNanos) {
                    producer.send(event(topics.input(), name + "-" + (burst + sent), jpegs.get(sent % jpegs.size()),
                            System.currentTimeMillis()));
                    producer.flush();
                    sent++;
                    now = System.nanoTime();
                }
                long untilNext = sent < total ? start + sent * intervalNanos - now : 5_000_000;
                var records = labels.poll(Duration.ofNanos(Math.max(0, Math.min(untilNext, 5_000_000))));
                long visibleAt = System.currentTimeMillis();
                for (ConsumerRecord<byte[], byte[]> r : records) {
                    boolean timed = sequence(r.key()) >= burst + untimed;
                    if (timed ? seen == offered : seenUntimed == untimed) {
                        throw new IllegalStateException(name + ": more labels than images sent, so one was "
                                + "delivered twice (" + new String(r.key(), StandardCharsets.UTF_8) + ")");
                    }
                    if (!timed) {
                        untimedMs[seenUntimed++] = visibleAt - r.timestamp();
                        continue;
                    }
                    latencies[seen] = visibleAt - r.timestamp();
                    sentMs[seen] = r.timestamp() - timedFromWallMs;
                    batchSizes[seen] = topics.labels().value(r).getBatchSize();
                    batchSum += batchSizes[seen++];
                }
                failIfStuck(pipeline, deadline, name);
            }
            return new Latency(perSecond, latencies, sentMs, batchSizes, (double) batchSum / offered,
                    threadGauge(metrics, "kafka.stream.thread.commit.latency.avg"),
                    threadGauge(metrics, "kafka.stream.thread.commit.latency.max"),
                    java.util.Arrays.copyOf(untimedMs, seenUntimed));
        }
    }

    /** The number an event's key ends in: its place in the order the run sent them. */
    private static long sequence(byte[] key) {
        String id = new String(key, StandardCharsets.UTF_8);
        return Long.parseLong(id.substring(id.lastIndexOf('-') + 1));
    }

    /** A stream thread metric that Kafka Streams keeps over its own window (30 s); NaN when it has none yet. */
    private static double threadGauge(PipelineMetrics metrics, String name) {
        var gauge = metrics.registry().find(name).gauge();
        return gauge == null ? Double.NaN : gauge.value();
    }

    LabelstreamConfig config(String name, Path model, int batch) throws java.io.IOException {
        return LabelstreamConfig.of(settings(name, model, batch));
    }

    /** The settings of one run, as they would be given to {@code labelstream run}. */
    Map<String, String> settings(String name, Path model, int batch) throws java.io.IOException {
        Map<String, String> s = new HashMap<>();
        s.put("bootstrap.servers", setup.bootstrapServers());
        s.put("application.id", name);
        s.put("input.topics", name + "-in");
        s.put("labels.topic", name + "-labels");
        s.put("failures.topic", name + "-failures");
        s.put("flagged.topic", name + "-flagged");
        s.put("topics.partitions", Integer.toString(setup.partitions()));
        s.put("num.stream.threads", Integer.toString(setup.streamThreads()));
        s.put("max.batch.size", Integer.toString(batch));
        s.put("model.path", model.toString());
        // The workers as labelstream lays them out by default (model.provider=cpu: one single-threaded worker per
        // core), not the bare loop's one session with every thread: what a user runs is what is measured.
        s.put("preprocess.threads", Integer.toString(setup.threads()));
        s.put("state.dir", Files.createTempDirectory("labelstream-bench").toString());
        s.putAll(setup.extra());
        return s;
    }

    private void failIfStuck(Pipeline pipeline, long deadline, String name) throws TimeoutException {
        if (pipeline.fatalError() != null) {
            throw new IllegalStateException("pipeline " + name + " failed", pipeline.fatalError());
        }
        if (System.nanoTime() > deadline) {
            throw new TimeoutException("pipeline " + name + " did not label every image in time");
        }
    }

    /** Creates the run's input topic and fills it with {@code images} events, cycling through {@code jpegs}. */
    void preload(Topic<ImageEvent> input, String name, List<byte[]> jpegs, int images) throws Exception {
        createTopic(input);
        try (var producer = producer()) {
            for (int i = 0; i < images; i++) {
                producer.send(event(input, name + "-" + i, jpegs.get(i % jpegs.size()), System.currentTimeMillis()));
            }
            producer.flush();
        }
    }

    void createTopic(Topic<?> topic) throws Exception {
        try (Admin admin = clients.admin()) {
            admin.createTopics(List.of(new NewTopic(topic.name(), setup.partitions(), (short) 1)
                    .configs(Map.of("max.message.bytes", Integer.toString(TopicAdmin.MAX_RECORD_BYTES))))).all().get();
        }
    }

    KafkaProducer<byte[], byte[]> producer() {
        return clients.producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 5,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicAdmin.MAX_RECORD_BYTES));
    }

    /** An event stamped with {@code sentAt}, which is both its event time and its record timestamp. */
    static ProducerRecord<byte[], byte[]> event(Topic<ImageEvent> input, String id, byte[] jpeg, long sentAt) {
        ImageEvent event = ImageEvents.inline(id, jpeg, "image/jpeg").setEventTime(Instant.ofEpochMilli(sentAt))
                .build();
        return new ProducerRecord<>(input.name(), null, sentAt, id.getBytes(StandardCharsets.UTF_8),
                input.valueSerde().encode(event));
    }

    /**
     * Reads every partition of the labels topic from the start, committed transactions only. {@code fetchWaitMs}
     * bounds how late a label is seen; the shorter, the more the reader itself costs the broker.
     */
    KafkaConsumer<byte[], byte[]> labelsConsumer(Topic<ImageLabels> labels, int fetchWaitMs) throws Exception {
        var consumer = clients.readCommittedConsumer(Map.of(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, fetchWaitMs));
        String topic = labels.name();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        while (consumer.partitionsFor(topic, Duration.ofSeconds(10)).size() < setup.partitions()) {
            if (System.nanoTime() > deadline) {
                consumer.close();
                throw new TimeoutException("topic " + topic + " was not created");
            }
            Thread.sleep(50);
        }
        List<TopicPartition> partitions = consumer.partitionsFor(topic).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        return consumer;
    }
}
