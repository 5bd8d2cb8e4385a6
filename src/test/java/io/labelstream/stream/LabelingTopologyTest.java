package io.labelstream.stream;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.InlineImage;
import io.labelstream.testing.DriverPump;
import io.labelstream.testing.TestModels;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class LabelingTopologyTest {

    private static final int MAX_BATCH = 4;
    private static final long DELAY_MS = 100;
    private static final Duration TICK = Duration.ofMillis(10);

    private static LoadedModel model;
    private static LabelingEngine engine;

    private final AvroSerde<ImageEvent> events = AvroSerdes.imageEvent();
    private final AvroSerde<ImageLabels> labelsSerde = AvroSerdes.imageLabels();
    private final AvroSerde<ImageFailure> failuresSerde = AvroSerdes.imageFailure();
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> labels;
    private TestOutputTopic<byte[], byte[]> failures;

    @BeforeAll
    static void loadModel() throws Exception {
        model = LoadedModel.load(TestModels.resnet18(), null, "resnet18-test", new SessionSettings(2));
        engine = new LabelingEngine(model, new ImagePreprocessor(PreprocessRecipe.IMAGENET,
                new ImageDecoder(ImageLimits.defaults())), 5, Scores.OutputKind.AUTO, 2);
    }

    @AfterAll
    static void closeModel() {
        engine.close();
    }

    @BeforeEach
    void startDriver() {
        var options = new LabelingTopology.Options(List.of("images"), "labels", "failures", MAX_BATCH, DELAY_MS,
                1, TICK);
        driver = driver(options, "topology-test");
        input = driver.createInputTopic("images", new ByteArraySerializer(), new ByteArraySerializer());
        labels = driver.createOutputTopic("labels", new ByteArrayDeserializer(), new ByteArrayDeserializer());
        failures = driver.createOutputTopic("failures", new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void closeDriver() {
        driver.close();
    }

    @Test
    void aFullBatchGoesAtOnceAndItsOutputsKeepKeysAndHeaders() {
        for (int i = 0; i < MAX_BATCH - 1; i++) {
            pipe("img-" + i, SyntheticImages.jpeg(320, 240, i));
        }
        assertThat(labels.isEmpty()).isTrue();
        assertThat(buffer().approximateNumEntries()).isEqualTo(MAX_BATCH - 1);

        RecordHeaders headers = new RecordHeaders();
        headers.add("trace-id", "abc".getBytes(StandardCharsets.UTF_8));
        input.pipeInput(new TestRecord<>(key("img-3"), event("img-3", SyntheticImages.jpeg(200, 300, 3)), headers,
                Instant.ofEpochMilli(1234)));

        List<TestRecord<byte[], byte[]>> out = DriverPump.read(driver, TICK, labels, MAX_BATCH);
        assertThat(out).hasSize(MAX_BATCH);
        assertThat(failures.isEmpty()).isTrue();
        assertThat(buffer().approximateNumEntries()).isZero();
        for (int i = 0; i < MAX_BATCH; i++) {
            ImageLabels l = decodeLabels(out.get(i));
            assertThat(l.getId()).isEqualTo("img-" + i);
            assertThat(new String(out.get(i).key(), StandardCharsets.UTF_8)).isEqualTo("img-" + i);
            assertThat(l.getBatchSize()).isEqualTo(MAX_BATCH);
            assertThat(l.getLabels()).hasSize(5);
            assertThat(l.getLabels().get(0).getScore()).isGreaterThanOrEqualTo(l.getLabels().get(4).getScore());
            assertThat(l.getModel().getName()).isEqualTo("resnet18-test");
            assertThat(l.getModel().getVersion()).isEqualTo("1"); // the generator writes model_version 1
            assertThat(l.getModel().getSha256()).hasSize(64);
            assertThat(l.getSource().getTopic()).isEqualTo("images");
            assertThat(l.getSource().getOffset()).isEqualTo(i);
        }
        TestRecord<byte[], byte[]> last = out.get(MAX_BATCH - 1);
        assertThat(last.headers().lastHeader("trace-id").value()).isEqualTo("abc".getBytes(StandardCharsets.UTF_8));
        assertThat(last.timestamp()).isEqualTo(1234L);
    }

    @Test
    void withTwoBatchesInFlightBothGoToTheEngineWithoutWaitingAndComeOutInOrder() throws Exception {
        var options = new LabelingTopology.Options(List.of("images"), "labels", "failures", MAX_BATCH, DELAY_MS, 2,
                TICK);
        try (TopologyTestDriver twoInFlight = driver(options, "in-flight-test")) {
            var in = twoInFlight.createInputTopic("images", new ByteArraySerializer(), new ByteArraySerializer());
            var out = twoInFlight.createOutputTopic("labels", new ByteArrayDeserializer(), new ByteArrayDeserializer());
            KeyValueStore<Long, ?> store = twoInFlight.getKeyValueStore(LabelingTopology.BUFFER_STORE);
            for (int i = 0; i < 2 * MAX_BATCH; i++) {
                in.pipeInput(key("f-" + i), event("f-" + i, SyntheticImages.jpeg(320, 240, 50 + i)));
            }
            // Both batches were handed to the engine by the input records alone; the punctuator emits them.
            List<ImageLabels> all = DriverPump.read(twoInFlight, TICK, out, 2 * MAX_BATCH).stream()
                    .map(this::decodeLabels).toList();
            assertThat(all).extracting(ImageLabels::getId).containsExactly("f-0", "f-1", "f-2", "f-3", "f-4", "f-5",
                    "f-6", "f-7");
            assertThat(all).allSatisfy(l -> assertThat(l.getBatchSize()).isEqualTo(MAX_BATCH));
            assertThat(store.approximateNumEntries()).isZero();
        }
    }

    @Test
    void aFullBufferHoldsTheStreamThreadOnlyUntilThereIsRoomAndLosesNothing() {
        // One batch in flight, so the buffer is full at two batches' worth; a transaction budget far beyond the
        // test lets the wait end only by room, not by its bound.
        var options = new LabelingTopology.Options(io.labelstream.schema.Topics.named(List.of("images"), null, "labels", "failures", "flagged"),
                ModerationRules.none(), null, null, io.labelstream.ops.PipelineMetrics.inMemory(), MAX_BATCH,
                DELAY_MS, 1, TICK, new TransactionBudget(MAX_BATCH, 600_000, 100, true));
        try (TopologyTestDriver held = driver(options, "hold-back-test")) {
            var in = held.createInputTopic("images", new ByteArraySerializer(), new ByteArraySerializer());
            var out = held.createOutputTopic("labels", new ByteArrayDeserializer(), new ByteArrayDeserializer());
            KeyValueStore<Long, ?> store = held.getKeyValueStore(LabelingTopology.BUFFER_STORE);
            int records = 5 * MAX_BATCH + 1;
            for (int i = 0; i < records; i++) {
                in.pipeInput(key("h-" + i), event("h-" + i, SyntheticImages.jpeg(160, 120, 80 + i)));
                assertThat(store.approximateNumEntries()).isLessThan(2 * MAX_BATCH);
            }
            held.advanceWallClockTime(Duration.ofMillis(DELAY_MS + 10)); // the last record is a partial batch
            List<ImageLabels> labeled = DriverPump.read(held, TICK, out, records).stream().map(this::decodeLabels)
                    .toList();
            assertThat(labeled).extracting(ImageLabels::getId).containsExactlyElementsOf(
                    java.util.stream.IntStream.range(0, records).mapToObj(i -> "h-" + i).toList());
            assertThat(labeled.subList(0, records - 1)).allSatisfy(l -> assertThat(l.getBatchSize()).isEqualTo(MAX_BATCH));
            assertThat(store.approximateNumEntries()).isZero();
        }
    }

    @Test
    void aPartialBatchWaitsForTheDelayByWallClock() {
        for (int i = 0; i < 3; i++) {
            pipe("d-" + i, SyntheticImages.jpeg(256, 256, 10 + i));
        }
        driver.advanceWallClockTime(Duration.ofMillis(DELAY_MS / 2));
        assertThat(labels.isEmpty()).isTrue();
        driver.advanceWallClockTime(Duration.ofMillis(DELAY_MS / 2 + 10));
        List<TestRecord<byte[], byte[]>> out = DriverPump.read(driver, TICK, labels, 3);
        assertThat(out).hasSize(3);
        for (TestRecord<byte[], byte[]> r : out) {
            ImageLabels l = decodeLabels(r);
            assertThat(l.getBatchSize()).isEqualTo(3);
            assertThat(l.getTimings().getQueueMs()).isGreaterThanOrEqualTo((double) DELAY_MS);
        }
        assertThat(buffer().approximateNumEntries()).isZero();
    }

    @Test
    void badRecordsGoToFailuresWithReasonAndOriginalBytesAndNeverHurtTheirBatch() {
        byte[] notAvro = "definitely not avro".getBytes(StandardCharsets.UTF_8);
        input.pipeInput(key("junk"), notAvro);
        byte[] tampered = events.encode(ImageEvent.newBuilder().setId("fp")
                .setImage(new InlineImage(ByteBuffer.wrap(new byte[] {1}), null)).setEventTime(Instant.EPOCH).build());
        tampered[2] ^= 0x55; // corrupt the schema fingerprint
        input.pipeInput(key("fp"), tampered);
        input.pipeInput(key("ref"), events.encode(ImageEvent.newBuilder().setId("ref")
                .setImage(new ImageReference("file:///tmp/x.jpg", null, null, null)).setEventTime(Instant.EPOCH).build()));

        byte[] good = SyntheticImages.jpeg(320, 240, 5);
        byte[] corruptImage = Arrays.copyOf(good, good.length / 2);
        pipe("ok-0", SyntheticImages.jpeg(320, 240, 6));
        byte[] corruptEvent = pipe("broken", corruptImage);
        pipe("ok-1", SyntheticImages.jpeg(320, 240, 7));
        pipe("ok-2", SyntheticImages.jpeg(320, 240, 8));

        List<ImageLabels> labeled = DriverPump.read(driver, TICK, labels, 3).stream().map(this::decodeLabels).toList();
        List<ImageFailure> failed = failures.readRecordsToList().stream().map(this::decodeFailure).toList();
        assertThat(failed).extracting(ImageFailure::getReason).containsExactly(FailureReason.INVALID_EVENT,
                FailureReason.UNKNOWN_SCHEMA, FailureReason.REFERENCE_REFUSED, FailureReason.UNDECODABLE_IMAGE);
        assertThat(bytes(failed.get(0).getOriginalValue())).isEqualTo(notAvro);
        assertThat(failed.get(0).getId()).isNull();
        assertThat(failed.get(0).getSource().getOffset()).isZero();
        assertThat(bytes(failed.get(1).getOriginalValue())).isEqualTo(tampered);
        assertThat(failed.get(3).getId()).isEqualTo("broken");
        assertThat(failed.get(3).getMessage()).contains("JPEG");
        assertThat(bytes(failed.get(3).getOriginalValue())).isEqualTo(corruptEvent);
        assertThat(new String(bytes(failed.get(3).getOriginalKey()), StandardCharsets.UTF_8)).isEqualTo("broken");

        assertThat(labeled).extracting(ImageLabels::getId).containsExactly("ok-0", "ok-1", "ok-2");
        assertThat(labeled).allSatisfy(l -> assertThat(l.getBatchSize()).isEqualTo(3));
    }

    @Test
    void anImageGetsTheSameScoresWhateverElseIsInItsBatch() {
        byte[] probe = SyntheticImages.jpeg(500, 375, 42);
        pipe("alone", probe);
        driver.advanceWallClockTime(Duration.ofMillis(DELAY_MS + 10));
        ImageLabels alone = decodeLabels(DriverPump.read(driver, TICK, labels, 1).get(0));
        pipe("n-0", SyntheticImages.jpeg(300, 300, 1));
        pipe("n-1", SyntheticImages.jpeg(300, 300, 2));
        pipe("crowd", probe);
        pipe("n-2", SyntheticImages.jpeg(300, 300, 3));
        ImageLabels crowd = DriverPump.read(driver, TICK, labels, 4).stream().map(this::decodeLabels)
                .filter(l -> l.getId().equals("crowd")).findFirst().orElseThrow();
        assertThat(alone.getBatchSize()).isEqualTo(1);
        assertThat(crowd.getBatchSize()).isEqualTo(4);
        for (int i = 0; i < 5; i++) {
            assertThat(crowd.getLabels().get(i).getClassIndex()).isEqualTo(alone.getLabels().get(i).getClassIndex());
            assertThat(crowd.getLabels().get(i).getScore()).isCloseTo(alone.getLabels().get(i).getScore(), within(1e-4f));
        }
    }

    private static TopologyTestDriver driver(LabelingTopology.Options options, String applicationId) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        return new TopologyTestDriver(LabelingTopology.build(options, engine), props, Instant.EPOCH);
    }

    private byte[] pipe(String id, byte[] image) {
        byte[] value = event(id, image);
        input.pipeInput(key(id), value);
        return value;
    }

    private byte[] event(String id, byte[] image) {
        return events.encode(ImageEvent.newBuilder().setId(id)
                .setImage(new InlineImage(ByteBuffer.wrap(image), "image/jpeg")).setEventTime(Instant.EPOCH).build());
    }

    private static byte[] key(String id) {
        return id.getBytes(StandardCharsets.UTF_8);
    }

    private KeyValueStore<Long, ?> buffer() {
        return driver.getKeyValueStore(LabelingTopology.BUFFER_STORE);
    }

    private ImageLabels decodeLabels(TestRecord<byte[], byte[]> r) {
        return labelsSerde.deserializer().deserialize("labels", r.value());
    }

    private ImageFailure decodeFailure(TestRecord<byte[], byte[]> r) {
        return failuresSerde.deserializer().deserialize("failures", r.value());
    }

    private static byte[] bytes(ByteBuffer b) {
        byte[] out = new byte[b.remaining()];
        b.duplicate().get(out);
        return out;
    }
}
