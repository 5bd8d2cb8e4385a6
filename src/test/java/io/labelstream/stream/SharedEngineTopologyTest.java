package io.labelstream.stream;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.model.BatchOutcome;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.InlineImage;
import io.labelstream.testing.DriverPump;
import io.labelstream.testing.HeldBatch;
import io.labelstream.testing.PoisonableModel;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One engine serves every task of an instance. A task's due partial batch does not queue behind another task's
 * batch in a busy engine, where it would only wait while it could still be filling, but it does not wait for
 * the engine for ever either: at most one typical batch time beyond its delay. The other task is played by the
 * test, with a batch the engine cannot finish until the test releases it.
 */
class SharedEngineTopologyTest {

    private static final int MAX_BATCH = 4;
    private static final long DELAY_MS = 20;
    private static final Duration TICK = Duration.ofMillis(10);

    private final AvroSerde<ImageEvent> events = AvroSerdes.imageEvent();
    private LabelingEngine engine;
    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> input;
    private TestOutputTopic<byte[], byte[]> labels;
    /** Released after each test too, so a failing assertion does not leave the engine's threads waiting. */
    private final HeldBatch otherTask = new HeldBatch(PoisonableModel.image(2), 2);

    @BeforeEach
    void start() throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 1);
        // A known typical batch time: one batch that the engine could not read for 300 ms.
        HeldBatch slow = new HeldBatch(PoisonableModel.image(1), 1);
        CompletableFuture<BatchOutcome> first = engine.submit(slow, MAX_BATCH);
        slow.awaitReached(); // its time runs from before this point
        // Not a wait for a fact: the batch is held this long to give the engine a typical batch time of at least it.
        Thread.sleep(300);
        slow.release();
        first.get(60, TimeUnit.SECONDS);
        assertThat(engine.typicalBatchTime()).isGreaterThanOrEqualTo(Duration.ofMillis(300));

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "shared-engine-test");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        var options = new LabelingTopology.Options(List.of("images"), "labels", "failures", MAX_BATCH, DELAY_MS, 1,
                TICK);
        driver = new TopologyTestDriver(LabelingTopology.build(options, engine), props, Instant.EPOCH);
        input = driver.createInputTopic("images", new ByteArraySerializer(), new ByteArraySerializer());
        labels = driver.createOutputTopic("labels", new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    @AfterEach
    void stop() {
        otherTask.release();
        if (driver != null) {
            driver.close();
        }
        engine.close();
    }

    @Test
    void aDuePartialBatchKeepsFillingWhileAnotherTasksBatchHoldsTheEngineAndThenGoesAtOnce() throws Exception {
        List<CompletableFuture<BatchOutcome>> other = occupyBothBatchThreads(otherTask);
        pipe(0, 1, 2);
        // Well past the delay, short of delay + typical batch time: nothing of this task joins the queue.
        for (long waited = 0; waited < DELAY_MS + 100; waited += TICK.toMillis()) {
            driver.advanceWallClockTime(TICK);
            assertThat(engine.batchesInEngine()).as("after %d ms", waited).isEqualTo(2);
        }
        pipe(3); // it kept filling: now full, and a full batch goes at once, busy engine or not
        assertThat(engine.batchesInEngine()).isEqualTo(3);
        otherTask.release();
        for (CompletableFuture<BatchOutcome> f : other) {
            f.get(60, TimeUnit.SECONDS);
        }
        List<ImageLabels> out = DriverPump.read(driver, TICK, labels, MAX_BATCH).stream().map(this::decode).toList();
        assertThat(out).extracting(ImageLabels::getId).containsExactly("p-0", "p-1", "p-2", "p-3");
        assertThat(out).allSatisfy(l -> assertThat(l.getBatchSize()).isEqualTo(MAX_BATCH));
    }

    @Test
    void aDuePartialBatchGoesAsSoonAsTheEngineIsFree() throws Exception {
        List<CompletableFuture<BatchOutcome>> other = occupyBothBatchThreads(otherTask);
        pipe(0, 1);
        driver.advanceWallClockTime(Duration.ofMillis(DELAY_MS + TICK.toMillis()));
        assertThat(engine.batchesInEngine()).isEqualTo(2);
        otherTask.release();
        for (CompletableFuture<BatchOutcome> f : other) {
            f.get(60, TimeUnit.SECONDS);
        }
        List<ImageLabels> out = DriverPump.read(driver, TICK, labels, 2).stream().map(this::decode).toList();
        assertThat(out).extracting(ImageLabels::getId).containsExactly("p-0", "p-1");
        assertThat(out).allSatisfy(l -> assertThat(l.getBatchSize()).isEqualTo(2));
    }

    @Test
    void aPartialBatchWaitsForABusyEngineAtMostOneTypicalBatchTimeBeyondItsDelay() throws Exception {
        List<CompletableFuture<BatchOutcome>> other = occupyBothBatchThreads(otherTask);
        long bound = DELAY_MS + engine.typicalBatchTime().toMillis();
        pipe(0, 1);
        long waited = 0;
        while (engine.batchesInEngine() == 2 && waited < 10 * bound) {
            driver.advanceWallClockTime(TICK);
            waited += TICK.toMillis();
        }
        assertThat(engine.batchesInEngine()).as("queued behind the busy engine").isEqualTo(3);
        assertThat(waited).isBetween(bound, bound + TICK.toMillis());
        otherTask.release();
        for (CompletableFuture<BatchOutcome> f : other) {
            f.get(60, TimeUnit.SECONDS);
        }
        List<ImageLabels> out = DriverPump.read(driver, TICK, labels, 2).stream().map(this::decode).toList();
        assertThat(out).extracting(ImageLabels::getId).containsExactly("p-0", "p-1");
    }

    /**
     * Another task's batch, twice: the engine has two batch threads for its one worker, so with both held a batch
     * this task submits stays queued (and counted) until the test releases them, however fast the machine.
     */
    private List<CompletableFuture<BatchOutcome>> occupyBothBatchThreads(HeldBatch batch) {
        List<CompletableFuture<BatchOutcome>> held = List.of(engine.submit(batch, MAX_BATCH),
                engine.submit(batch, MAX_BATCH));
        assertThat(engine.batchesInEngine()).isEqualTo(2);
        return held;
    }

    private void pipe(int... ids) {
        for (int i : ids) {
            String id = "p-" + i;
            input.pipeInput(id.getBytes(StandardCharsets.UTF_8), events.encode(ImageEvent.newBuilder().setId(id)
                    .setImage(new InlineImage(ByteBuffer.wrap(PoisonableModel.image(10 + i)), "image/png"))
                    .setEventTime(Instant.EPOCH).build()));
        }
    }

    private ImageLabels decode(org.apache.kafka.streams.test.TestRecord<byte[], byte[]> r) {
        return AvroSerdes.imageLabels().deserializer().deserialize("labels", r.value());
    }
}
