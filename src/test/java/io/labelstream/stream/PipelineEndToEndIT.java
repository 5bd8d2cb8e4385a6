package io.labelstream.stream;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.broker.TopicAdmin;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.internal.BufferedRecord;
import io.labelstream.testing.ChildInstance;
import io.labelstream.testing.PipelineSettings;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The whole pipeline against a real KRaft broker, read back with read_committed consumers. */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class PipelineEndToEndIT {

    private static EmbeddedKafka kafka;
    private static TopicTraffic traffic;

    @TempDir
    Path stateDirs;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
        traffic = new TopicTraffic(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private Map<String, String> settings(String app, String stateDir) {
        Map<String, String> s = PipelineSettings.of(kafka.bootstrapServers(), app, TestModels.resnet18(),
                stateDirs.resolve(stateDir));
        s.put("model.intra.op.threads", "2");
        s.put("ops.port", "0"); // several instances on one machine
        // A crashed member must leave the group quickly, and its open transaction must be aborted quickly.
        s.put("kafka.session.timeout.ms", "6000");
        s.put("kafka.heartbeat.interval.ms", "1000");
        s.put("kafka.producer.transaction.timeout.ms", "5000");
        return s;
    }

    private static Pipeline startInProcess(Map<String, String> settings, List<AutoCloseable> closeables)
            throws InterruptedException {
        LabelstreamConfig config = LabelstreamConfig.of(settings);
        LabelingEngine engine = EngineFactory.create(config, Duration.ofMillis(config.transactionTimeoutMs()));
        closeables.add(engine);
        Pipeline pipeline = Pipeline.start(config, config.get(io.labelstream.config.Settings.BOOTSTRAP_SERVERS), engine);
        closeables.add(0, pipeline);
        assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).as("pipeline reached RUNNING").isTrue();
        return pipeline;
    }

    @Test
    void labelsEveryImageExactlyOnceAndRoutesBadRecordsToFailures() throws Exception {
        String app = "e2e-basic";
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            Map<String, String> settings = settings(app, "basic");
            // Half of the images wait before the start: a backlog, so whatever this machine's speed, batches fill
            // to max.batch.size. The other half arrives while it runs, where batches may leave partly filled.
            Properties admin = new Properties();
            admin.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
            TopicAdmin.createMissing(LabelstreamConfig.of(settings), admin);
            List<String> ids = new ArrayList<>(traffic.publishImages(app + "-in", "backlog", 100, 320, 240));
            Pipeline pipeline = startInProcess(settings, closeables);
            ids.addAll(traffic.publishImages(app + "-in", "img", 100, 320, 240));
            byte[] good = SyntheticImages.jpeg(320, 240, 77);
            byte[] corruptEvent = TopicTraffic.event("corrupt-1", Arrays.copyOf(good, good.length / 2));
            traffic.publishRaw(app + "-in", "corrupt-1", corruptEvent);
            traffic.publishRaw(app + "-in", "junk", "not an avro record".getBytes());

            TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 202,
                    Duration.ofMinutes(3), pipeline::fatalError);

            assertThat(out.missing(ids)).as("lost").isEmpty();
            assertThat(out.duplicates()).as("duplicated").isEmpty();
            assertThat(out.labels()).hasSize(200);
            assertThat(out.labeledCounts().keySet()).containsExactlyInAnyOrderElementsOf(ids);
            assertThat(out.labels()).allSatisfy(l -> {
                assertThat(l.getLabels()).hasSize(5);
                assertThat(l.getBatchSize()).isBetween(1, 8);
            });
            System.out.printf("100 images waiting at the start, 100 published while running, over four partitions: "
                            + "mean batch %.1f, largest %d%n",
                    out.labels().stream().mapToInt(l -> l.getBatchSize()).average().orElse(0),
                    out.labels().stream().mapToInt(l -> l.getBatchSize()).max().orElse(0));
            assertThat(out.labels().stream().filter(l -> l.getId().startsWith("backlog-"))
                    .mapToInt(l -> l.getBatchSize()).max().orElse(0))
                    .as("a backlog is labeled in full batches").isEqualTo(8);
            assertThat(out.failures()).hasSize(2);
            ImageFailure corrupt = out.failures().stream().filter(f -> "corrupt-1".equals(f.getId())).findFirst()
                    .orElseThrow();
            assertThat(corrupt.getReason()).isEqualTo(FailureReason.UNDECODABLE_IMAGE);
            assertThat(bytes(corrupt.getOriginalValue())).isEqualTo(corruptEvent);
            assertThat(corrupt.getSource().getTopic()).isEqualTo(app + "-in");
            ImageFailure junk = out.failures().stream().filter(f -> f.getId() == null).findFirst().orElseThrow();
            assertThat(junk.getReason()).isEqualTo(FailureReason.INVALID_EVENT);
            assertThat(pipeline.state().isRunningOrRebalancing()).isTrue();
        } finally {
            closeAll(closeables);
        }
    }

    /**
     * With a poll that would sleep two minutes, only the batcher's wake-ups (a batch finished, a partial batch's
     * delay over, forwarded output due for its commit) can get 21 images labeled and committed within the wait;
     * and once all is out, an idle instance commits nothing.
     */
    @Test
    void workWakesAStreamThreadFromALongPollAndAnIdleInstanceCommitsNothing() throws Exception {
        String app = "e2e-wakeups";
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            Map<String, String> settings = settings(app, "wakeups");
            settings.put("kafka.poll.ms", "120000");
            LabelstreamConfig config = LabelstreamConfig.of(settings);
            LabelingEngine engine = EngineFactory.create(config, Duration.ofMillis(config.transactionTimeoutMs()));
            closeables.add(engine);
            io.labelstream.ops.PipelineMetrics metrics = io.labelstream.ops.PipelineMetrics.inMemory();
            Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine, metrics);
            closeables.add(0, pipeline);
            assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).isTrue();

            List<String> ids = traffic.publishImages(app + "-in", "img", 21, 224, 224);
            TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 21,
                    Duration.ofSeconds(90), pipeline::fatalError);
            assertThat(out.missing(ids)).as("labeled and committed while the poll would still sleep").isEmpty();
            assertThat(out.duplicates()).isEmpty();

            java.util.function.DoubleSupplier commits = () -> metrics.registry().find("kafka.stream.thread.commit.total")
                    .functionCounters().stream().mapToDouble(c -> c.count()).sum();
            assertThat(commits.getAsDouble()).as("commits so far").isPositive();
            // Time as the instance itself sees it pass: its consumer's heartbeats, one every
            // kafka.heartbeat.interval.ms (1 s here) from their own thread, whatever the stream thread does.
            java.util.function.DoubleSupplier heartbeats = () -> metrics.registry()
                    .find("kafka.consumer.coordinator.heartbeat.total").functionCounters().stream()
                    .mapToDouble(c -> c.count()).sum();
            // Every output is committed (the markers behind them are out), but the stage's last round may still
            // commit, one commit interval later, later on a slow machine: wait for a heartbeat interval without a
            // commit (a build that commits while idle, every 100 ms, never has one), then require three more.
            double[] last = {commits.getAsDouble(), heartbeats.getAsDouble()};
            await("a heartbeat interval without a commit").atMost(Duration.ofSeconds(60)).until(() -> {
                double now = commits.getAsDouble();
                if (now != last[0]) {
                    last[0] = now;
                    last[1] = heartbeats.getAsDouble();
                    return false;
                }
                return heartbeats.getAsDouble() >= last[1] + 2;
            });
            double before = commits.getAsDouble();
            double beat = heartbeats.getAsDouble();
            await("three heartbeats while idle").atMost(Duration.ofSeconds(60))
                    .until(() -> heartbeats.getAsDouble() >= beat + 3);
            assertThat(commits.getAsDouble()).as("commits while idle").isEqualTo(before);
            assertThat(pipeline.state().isRunningOrRebalancing()).isTrue();
        } finally {
            closeAll(closeables);
        }
    }

    @Test
    void anInt8ModelLabelsThroughARealBrokerAndItsOutputsSayWhatItIs() throws Exception {
        Path int8 = Path.of("target", "test-models", "resnet18-int8.onnx").toAbsolutePath();
        io.labelstream.model.quantize.Quantizer.Result quantized =
                io.labelstream.model.quantize.GeneratedInt8.quantize(TestModels.resnet18(), int8);
        String app = "e2e-int8";
        Map<String, String> settings = settings(app, "int8");
        settings.put("model.path", int8.toString());
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            Pipeline pipeline = startInProcess(settings, closeables);
            List<String> ids = traffic.publishImages(app + "-in", "q", 24, 320, 240);
            TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 24,
                    Duration.ofMinutes(3), pipeline::fatalError);
            assertThat(out.missing(ids)).as("lost").isEmpty();
            assertThat(out.duplicates()).as("duplicated").isEmpty();
            assertThat(out.failures()).isEmpty();
            String sha = io.labelstream.model.LoadedModel.sha256(int8);
            assertThat(out.labels()).hasSize(24).allSatisfy(l -> {
                assertThat(l.getModel().getName()).isEqualTo("resnet18-int8");
                // The generator's model_version 1, then what the quantization was and on which images.
                assertThat(l.getModel().getVersion()).isEqualTo("1+" + quantized.summary())
                        .startsWith("1+int8-minmax-32img-");
                assertThat(l.getModel().getSha256()).isEqualTo(sha);
                assertThat(l.getLabels()).hasSize(5);
            });
        } finally {
            closeAll(closeables);
        }
    }

    @Test
    void bufferedRecordsSurviveAHardKillAndAreLabeledAfterRestart() throws Exception {
        String app = "e2e-buffer";
        List<String> ids = new ArrayList<>();
        List<BufferedRecord> changelog = bufferAndKill(app, Map.of(), ids);
        // By default the changelog keeps where each record is, not its image: a restore reads it from its input.
        assertThat(changelog).hasSize(12).allSatisfy(entry -> {
            assertThat(Records.valueInInput(entry)).isTrue();
            assertThat(AvroSerdes.bufferedRecord().encode(entry).length).isLessThan(256);
        });
        labeledAfterRestart(app, ids);
    }

    @Test
    void withBufferChangelogRecordsTheChangelogKeepsTheImagesAndRestoresThem() throws Exception {
        String app = "e2e-buffer-records";
        List<String> ids = new ArrayList<>();
        List<BufferedRecord> changelog = bufferAndKill(app, Map.of("buffer.changelog", "records"), ids);
        assertThat(changelog).hasSize(12).allSatisfy(entry -> {
            assertThat(Records.valueInInput(entry)).isFalse();
            assertThat(AvroSerdes.imageEvent().decode(Records.value(entry)).getId()).startsWith("buf-");
        });
        // The successor keeps offsets (the default): entries an older instance wrote with values restore as well.
        labeledAfterRestart(app, ids);
    }

    @Test
    void aBufferedRecordDeletedFromItsInputBeforeTheRestartBecomesAFailureNamingTheSetting() throws Exception {
        String app = "e2e-buffer-deleted";
        List<String> ids = new ArrayList<>();
        bufferAndKill(app, Map.of(), ids);
        try (Admin admin = admin()) {
            // As retention would: every record of the input, up to its end, is gone before the restart.
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.OffsetSpec> latest =
                    new HashMap<>();
            admin.describeTopics(List.of(app + "-in")).allTopicNames().get().get(app + "-in").partitions()
                    .forEach(p -> latest.put(new org.apache.kafka.common.TopicPartition(app + "-in", p.partition()),
                            org.apache.kafka.clients.admin.OffsetSpec.latest()));
            Map<org.apache.kafka.common.TopicPartition, org.apache.kafka.clients.admin.RecordsToDelete> all =
                    new HashMap<>();
            admin.listOffsets(latest).all().get().forEach((tp, end) -> all.put(tp,
                    org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(end.offset())));
            admin.deleteRecords(all).all().get();
        }
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            Pipeline pipeline = startInProcess(settings(app, "buffer-b"), closeables);
            TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 12,
                    Duration.ofMinutes(2), pipeline::fatalError);
            // The events are gone, so the failures carry no id: each is known by its input key, once.
            assertThat(out.labels()).isEmpty();
            assertThat(out.failures()).hasSize(12).allSatisfy(f -> {
                assertThat(f.getReason()).isEqualTo(FailureReason.FETCH_FAILED);
                assertThat(f.getMessage()).contains("no longer in its topic", "buffer.changelog=records");
                assertThat(f.getId()).isNull();
                assertThat(f.getOriginalValue()).isNull();
                assertThat(f.getSource().getTopic()).isEqualTo(app + "-in");
            });
            assertThat(out.failures()).extracting(f -> new String(bytes(f.getOriginalKey()),
                    java.nio.charset.StandardCharsets.UTF_8)).containsExactlyInAnyOrderElementsOf(ids);
        } finally {
            closeAll(closeables);
        }
    }

    /**
     * Starts a child instance that buffers and never flushes, publishes 12 images to it, waits until their input
     * offsets (and so their buffer entries) are committed, SIGKILLs it, and returns the live entries of its buffer's
     * changelog: only the changelog can save these records.
     */
    private List<BufferedRecord> bufferAndKill(String app, Map<String, String> extra, List<String> ids)
            throws Exception {
        Map<String, String> first = settings(app, "buffer-a");
        first.put("max.batch.size", "16");
        first.put("max.batch.delay.ms", "60000");
        first.put("kafka.producer.transaction.timeout.ms", "10000"); // room for a worst-case batch of 16
        first.putAll(extra);
        try (ChildInstance child = ChildInstance.start(app + "-a", first)) {
            awaitTopic(app + "-in", child);
            ids.addAll(traffic.publishImages(app + "-in", "buf", 12, 320, 240));
            awaitCommittedInput(app, app + "-in", 12, child);
            child.kill();
        }
        return liveEntries(app + "-" + LabelingTopology.BUFFER_STORE + "-changelog");
    }

    /** A successor on a fresh state dir restores the buffer from its changelog and labels every record once. */
    private void labeledAfterRestart(String app, List<String> ids) throws Exception {
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            Pipeline pipeline = startInProcess(settings(app, "buffer-b"), closeables);
            TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 12,
                    Duration.ofMinutes(2), pipeline::fatalError);
            assertThat(out.missing(ids)).as("lost").isEmpty();
            assertThat(out.duplicates()).as("duplicated").isEmpty();
            assertThat(out.labels()).hasSize(12);
            assertThat(out.failures()).isEmpty();
            // They waited in the buffer across the crash, so every one reports a long queue time.
            assertThat(out.labels()).allSatisfy(l -> assertThat(l.getTimings().getQueueMs()).isGreaterThan(100.0));
            System.out.printf("buffer across hard kill (%s): in 12, labeled %d, failed %d, duplicated %d, lost %d%n",
                    app, out.labels().size(), out.failures().size(), out.duplicates().size(), out.missing(ids).size());
        } finally {
            closeAll(closeables);
        }
    }

    /** A changelog's committed entries that are not deleted, by partition and key. */
    private static List<BufferedRecord> liveEntries(String changelog) throws Exception {
        Map<String, BufferedRecord> live = new java.util.LinkedHashMap<>();
        for (var r : traffic.readAll(changelog)) {
            String key = r.partition() + ":" + Arrays.toString(r.key());
            if (r.value() == null) {
                live.remove(key);
            } else {
                live.put(key, AvroSerdes.bufferedRecord().decode(r.value()));
            }
        }
        return new ArrayList<>(live.values());
    }

    @Test
    void sigtermClosesWithinTheTimeoutAndKeepsTheBufferForTheNextOwner() throws Exception {
        String app = "e2e-sigterm";
        Map<String, String> first = settings(app, "sigterm-a");
        first.put("max.batch.size", "16");
        first.put("max.batch.delay.ms", "60000");
        first.put("kafka.producer.transaction.timeout.ms", "10000");
        first.put("shutdown.timeout.ms", "20000");
        List<AutoCloseable> closeables = new ArrayList<>();
        try (ChildInstance child = ChildInstance.start(app + "-a", first)) {
            awaitTopic(app + "-in", child);
            List<String> ids = traffic.publishImages(app + "-in", "term", 10, 320, 240);
            awaitCommittedInput(app, app + "-in", 10, child);
            long t0 = System.nanoTime();
            int exit = child.terminate(40);
            long stopMs = (System.nanoTime() - t0) / 1_000_000;
            assertThat(exit).as("exit after SIGTERM; log:%n%s", child.log()).isEqualTo(143); // 128 + SIGTERM
            assertThat(child.log()).containsPattern("Stopped in \\d+ ms");
            assertThat(stopMs).isLessThan(20_000);
            System.out.printf("SIGTERM: instance stopped in %d ms%n", stopMs);

            Pipeline next = startInProcess(settings(app, "sigterm-b"), closeables);
            TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 10,
                    Duration.ofMinutes(2), next::fatalError);
            assertThat(out.missing(ids)).as("lost").isEmpty();
            assertThat(out.duplicates()).as("duplicated").isEmpty();
        } finally {
            closeAll(closeables);
        }
    }

    /** What a child instance labeled before its SIGKILL, and what the in-process successor then published. */
    private record AcrossAKill(TopicTraffic.Outcome beforeKill, TopicTraffic.Outcome after, Pipeline successor) { }

    /**
     * Publishes {@code count} images, lets a child JVM label at least {@code progress} of them, SIGKILLs it mid-batch
     * and waits until an in-process instance has published an outcome for every image.
     */
    private AcrossAKill labelAcrossAHardKill(String app, Map<String, String> first, Map<String, String> second,
            String idPrefix, int count, int progress, Duration wait, List<String> ids,
            List<AutoCloseable> closeables) throws Exception {
        try (ChildInstance child = ChildInstance.start(app + "-a", first)) {
            awaitTopic(app + "-in", child);
            ids.addAll(traffic.publishImages(app + "-in", idPrefix, count, 320, 240));
            TopicTraffic.Outcome partial = traffic.awaitProgress(app + "-labels", app + "-failures", progress,
                    Duration.ofMinutes(2), () -> null);
            assertThat(partial.total()).as("first instance made progress; log:%n%s", child.log())
                    .isGreaterThanOrEqualTo(progress);
            child.kill();
            Pipeline pipeline = startInProcess(second, closeables);
            TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", count,
                    wait, pipeline::fatalError);
            assertThat(out.missing(ids)).as("lost").isEmpty();
            assertThat(out.duplicates()).as("duplicated").isEmpty();
            assertThat(out.labels()).hasSize(count);
            return new AcrossAKill(partial, out, pipeline);
        }
    }

    @Test
    void aHardKillMidStreamLosesAndDuplicatesNothing() throws Exception {
        String app = "e2e-kill";
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            List<String> ids = new ArrayList<>();
            AcrossAKill run = labelAcrossAHardKill(app, settings(app, "kill-a"), settings(app, "kill-b"), "k", 200,
                    40, Duration.ofMinutes(3), ids, closeables);
            TopicTraffic.Outcome out = run.after();
            assertThat(run.beforeKill().total()).isLessThan(200);
            System.out.printf("hard kill mid-stream: in 200, labeled before kill %d, labeled %d, failed %d,"
                    + " duplicated %d, lost %d%n", run.beforeKill().total(), out.labels().size(),
                    out.failures().size(), out.duplicates().size(), out.missing(ids).size());
        } finally {
            closeAll(closeables);
        }
    }

    /** A primary, a side model with a moderation rule, and a shadow, each writing its own topic. */
    private Map<String, String> sideModelSettings(String app, String stateDir) {
        Map<String, String> s = settings(app, stateDir);
        s.put("models.extra", "side,cand");
        s.put("models.side.path", TestModels.resnet18(1000).toString());
        s.put("models.cand.path", TestModels.resnet18().toString());
        s.put("models.cand.shadow", "true");
        s.put("flagged.topic", app + "-flagged");
        // Fires on every image the side model labels: each of its records is flagged too.
        s.put("moderation.rules", "any:model=side,index=0>=0");
        return s;
    }

    @Test
    @Timeout(value = 10, unit = TimeUnit.MINUTES)
    void sideModelsAndAShadowWriteEachTopicExactlyOnceAcrossAHardKill() throws Exception {
        String app = "e2e-side";
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            List<String> ids = new ArrayList<>();
            AcrossAKill run = labelAcrossAHardKill(app, sideModelSettings(app, "side-a"),
                    sideModelSettings(app, "side-b"), "s", 64, 16, Duration.ofMinutes(4), ids, closeables);
            Pipeline pipeline = run.successor();
            TopicTraffic.Outcome out = run.after();
            String primarySha = LoadedModel.sha256(TestModels.resnet18());
            assertThat(out.labels()).allSatisfy(l -> assertThat(l.getModel().getSha256()).isEqualTo(primarySha));
            Map<String, String> modelOf = Map.of(app + "-labels-side", "side", app + "-labels-cand", "cand",
                    app + "-flagged", "side");
            for (var topic : modelOf.entrySet()) {
                List<ImageLabels> records = readLabels(topic.getKey(), ids.size(), pipeline);
                assertThat(records).as(topic.getKey()).extracting(ImageLabels::getId)
                        .containsExactlyInAnyOrderElementsOf(ids);
                assertThat(records).as(topic.getKey())
                        .allSatisfy(l -> assertThat(l.getModel().getName()).isEqualTo(topic.getValue()));
            }
            System.out.printf("side models across a hard kill: in 64, labeled before kill %d; labels, side, shadow"
                    + " and flagged topics each hold every id once%n", run.beforeKill().total());
        } finally {
            closeAll(closeables);
        }
    }

    /**
     * Every committed ImageLabels record of {@code topic}, once {@code expected} have arrived, read to the topic's
     * end. Called after {@link TopicTraffic#awaitOutcome} saw the markers behind every input come out: a record's
     * outputs to every topic commit with or before the marker's, so the end offsets now take in every one of them,
     * a late duplicate too.
     */
    private static List<ImageLabels> readLabels(String topic, int expected, Pipeline pipeline) throws Exception {
        List<ImageLabels> records = new ArrayList<>();
        try (var outputs = traffic.committed(topic)) {
            outputs.awaitAtLeast(expected, Duration.ofMinutes(2), pipeline::fatalError).readToEnd(Duration.ofMinutes(2));
            for (var r : outputs.records()) {
                records.add(io.labelstream.schema.AvroSerdes.imageLabels().decode(r.value()));
            }
        }
        return records;
    }

    @Test
    void referencesRefusedBeforeAreLabeledAfterTheSettingIsFixedAndTheyAreReplayed() throws Exception {
        String app = "e2e-replay";
        Path images = java.nio.file.Files.createDirectories(stateDirs.resolve("images"));
        List<String> refIds = List.of("ref-0", "ref-1", "ref-2");
        List<AutoCloseable> first = new ArrayList<>();
        try {
            Pipeline refusing = startInProcess(settings(app, "replay-a"), first);
            for (String id : refIds) {
                java.nio.file.Path file = images.resolve(id + ".jpg");
                java.nio.file.Files.write(file, SyntheticImages.jpeg(200, 150, id.hashCode()));
                traffic.publishRaw(app + "-in", id, io.labelstream.schema.AvroSerdes.imageEvent().encode(
                        io.labelstream.schema.ImageEvent.newBuilder().setId(id).setEventTime(java.time.Instant.now())
                                .setImage(new io.labelstream.schema.ImageReference(file.toUri().toString(), null, null,
                                        null)).build()));
            }
            traffic.publishRaw(app + "-in", "inline-0", TopicTraffic.event("inline-0", SyntheticImages.jpeg(200, 150, 5)));
            TopicTraffic.Outcome before = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 4,
                    Duration.ofMinutes(2), refusing::fatalError);
            assertThat(before.failures()).extracting(ImageFailure::getReason)
                    .containsOnly(FailureReason.REFERENCE_REFUSED).hasSize(3);
        } finally {
            closeAll(first);
        }
        List<AutoCloseable> second = new ArrayList<>();
        try {
            Map<String, String> fixed = settings(app, "replay-b");
            fixed.put("fetch.file.roots", images.toString());
            fixed.put("fetch.timeout.ms", "1000");
            Pipeline fetching = startInProcess(fixed, second);
            int exit = io.labelstream.cli.CliTestAccess.execute("replay", "--bootstrap-servers",
                    kafka.bootstrapServers(), "-s", "input.topics=" + app + "-in", "-s",
                    "failures.topic=" + app + "-failures", "--reason", "REFERENCE_REFUSED");
            assertThat(exit).isZero();
            TopicTraffic.Outcome after = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 7,
                    Duration.ofMinutes(2), fetching::fatalError);
            assertThat(after.labeledCounts()).containsOnlyKeys("inline-0", "ref-0", "ref-1", "ref-2");
            assertThat(after.labeledCounts().values()).containsOnly(1);
            assertThat(after.failures()).hasSize(3); // the original failures stay; no new ones
        } finally {
            closeAll(second);
        }
    }

    @Test
    void poisonModerationAndDedupOnARealBroker() throws Exception {
        String app = "e2e-semantics";
        Map<String, String> s = settings(app, "semantics");
        // The small model that ONNX Runtime cannot run on bright images, with its raw 32x32 recipe.
        s.put("model.path", io.labelstream.testing.PoisonableModel.file().toString());
        s.put("preprocess.preset", "cifar10");
        s.put("preprocess.scale", "byte");
        s.put("preprocess.mean", "0,0,0");
        s.put("preprocess.std", "1,1,1");
        s.put("preprocess.reduced.decode", "false");
        s.put("moderation.rules", "sevens:index=7>=0.9");
        s.put("flagged.topic", app + "-flagged");
        s.put("dedup.enabled", "true");
        s.put("max.batch.size", "8");
        s.put("max.batch.delay.ms", "200");
        s.put("topics.partitions", "1"); // one task, so the five images below share one delay-flushed batch
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            Pipeline pipeline = startInProcess(s, closeables);
            var batch = new java.util.LinkedHashMap<String, byte[]>();
            for (int level : new int[] {7, 12, 250, 27, 99}) {
                batch.put("level-" + level, TopicTraffic.event("level-" + level,
                        io.labelstream.testing.PoisonableModel.image(level)));
            }
            traffic.publishAll(app + "-in", batch);
            TopicTraffic.Outcome first = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 5,
                    Duration.ofMinutes(2), pipeline::fatalError);
            // The bright image fails alone inside its batch (flushed by the wall-clock punctuator); the rest label.
            assertThat(first.failures()).singleElement().satisfies(f -> {
                assertThat(f.getId()).isEqualTo("level-250");
                assertThat(f.getReason()).isEqualTo(FailureReason.MODEL_ERROR);
            });
            assertThat(first.labeledCounts()).containsOnlyKeys("level-7", "level-12", "level-27", "level-99");
            // Batches form as records arrive; at least some images shared an inference call.
            assertThat(first.labels().stream().mapToInt(l -> l.getBatchSize()).max().orElse(0)).isGreaterThan(1);
            TopicTraffic.Outcome flagged = traffic.awaitOutcome(app + "-in", app + "-flagged", app + "-failures", 3,
                    Duration.ofMinutes(2), pipeline::fatalError);
            assertThat(flagged.labeledCounts()).containsOnlyKeys("level-7", "level-27");

            // The same bytes again, under another id: answered from the dedup cache.
            traffic.publishRaw(app + "-in", "again-12", TopicTraffic.event("again-12",
                    io.labelstream.testing.PoisonableModel.image(12)));
            TopicTraffic.Outcome second = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures", 6,
                    Duration.ofMinutes(2), pipeline::fatalError);
            assertThat(second.labels()).filteredOn(l -> l.getId().equals("again-12")).singleElement()
                    .satisfies(l -> {
                        assertThat(l.getFromCache()).isTrue();
                        assertThat(l.getLabels().get(0).getClassIndex()).isEqualTo(2);
                    });
            assertThat(second.duplicates()).isEmpty();
        } finally {
            closeAll(closeables);
        }
    }

    /** Waits until the child instance has created {@code topic} and every partition of it has a leader. */
    private static void awaitTopic(String topic, ChildInstance child) {
        traffic.awaitTopic(topic, Duration.ofSeconds(60),
                () -> assertThat(child.isAlive()).as("child instance alive; its log:%n%s", child.log()).isTrue());
    }

    /** Waits until the group has committed {@code count} input offsets: their buffer writes are committed too. */
    private static void awaitCommittedInput(String group, String topic, long count, ChildInstance child) {
        try (Admin admin = admin()) {
            await("child committed " + count + " input records").atMost(Duration.ofSeconds(90))
                    .failFast(() -> assertThat(child.isAlive()).as("child instance alive; its log:%n%s", child.log())
                            .isTrue())
                    .until(() -> {
                        Map<org.apache.kafka.common.TopicPartition, OffsetAndMetadata> offsets =
                                admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get();
                        return offsets.entrySet().stream().filter(e -> e.getKey().topic().equals(topic))
                                .mapToLong(e -> e.getValue().offset()).sum() >= count;
                    });
        }
    }

    private static Admin admin() {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers());
        return Admin.create(p);
    }

    private static void closeAll(List<AutoCloseable> closeables) throws Exception {
        for (AutoCloseable c : closeables) {
            c.close();
        }
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
