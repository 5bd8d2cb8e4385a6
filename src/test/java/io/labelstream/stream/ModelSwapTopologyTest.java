package io.labelstream.stream;

import com.sun.net.httpserver.HttpServer;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ReferenceFetcher;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReference;
import io.labelstream.testing.DriverPump;
import io.labelstream.testing.PoisonableModel;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A task switches to a replaced model only once nothing in its buffer is labeled by the old one, so a partition's
 * outputs change model once, even when an image ahead of the batch taken on the old model is still being fetched.
 */
class ModelSwapTopologyTest {

    private static final Duration TICK = Duration.ofMillis(10);
    private static final int BATCH = 3;
    private static final int SLOW_LEVEL = 40;

    private HttpServer server;
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger waiting = new AtomicInteger();

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        byte[] png = PoisonableModel.image(SLOW_LEVEL);
        server.createContext("/slow", ex -> {
            waiting.incrementAndGet();
            try {
                release.await(); // answers only when the test lets it
                ex.getResponseHeaders().add("Content-Type", "image/png");
                ex.sendResponseHeaders(200, png.length);
                ex.getResponseBody().write(png);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                ex.close();
            }
        });
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    private interface Scenario {
        void run(LabelingEngine engine, TopologyTestDriver driver, TestInputTopic<byte[], byte[]> in,
                 TestOutputTopic<byte[], byte[]> out, PipelineMetrics metrics) throws Exception;
    }

    private void run(boolean dedup, Scenario scenario) throws Exception {
        LoadedModel first = LoadedModel.load(PoisonableModel.file(0), null, "first", new SessionSettings(1));
        String host = "127.0.0.1:" + server.getAddress().getPort();
        PipelineMetrics metrics = PipelineMetrics.inMemory();
        try (LabelingEngine engine = new LabelingEngine(first, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 1);
             ReferenceFetcher fetcher = new ReferenceFetcher(new ReferenceFetcher.Policy(List.of(), Set.of(host),
                     600_000, 1 << 20, 2))) {
            var options = new LabelingTopology.Options(io.labelstream.schema.Topics.named(List.of("in"), null, "out",
                    "out", "flagged"), ModerationRules.none(), fetcher,
                    dedup ? new LabelingTopology.DedupOptions(1000, 3_600_000) : null, metrics, BATCH, 200, 2,
                    TICK, TransactionBudget.defaults(BATCH));
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "model-swap-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            try (TopologyTestDriver driver = new TopologyTestDriver(LabelingTopology.build(options, engine), props,
                    Instant.EPOCH)) {
                scenario.run(engine, driver,
                        driver.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer()),
                        driver.createOutputTopic("out", new ByteArrayDeserializer(), new ByteArrayDeserializer()),
                        metrics);
            }
        }
    }

    private static void inline(TestInputTopic<byte[], byte[]> in, String id, int level) {
        in.pipeInput(id.getBytes(StandardCharsets.UTF_8), TopicTraffic.event(id, PoisonableModel.image(level)));
    }

    private static List<ImageLabels> read(TopologyTestDriver driver, TestOutputTopic<byte[], byte[]> out, int n) {
        return DriverPump.read(driver, TICK, out, n).stream().map(r -> labels(r.value())).toList();
    }

    private static ImageLabels labels(byte[] value) {
        try {
            return AvroSerdes.imageLabels().decode(value);
        } catch (io.labelstream.schema.RecordDecodeException e) {
            throw new AssertionError("not a labels record (a failure?)", e);
        }
    }

    private static int top(ImageLabels labels) {
        return labels.getLabels().get(0).getClassIndex();
    }

    @Test
    void anImageFetchedAfterTheSwapButAheadOfABatchOnTheOldModelIsLabeledByTheOldModelToo() throws Exception {
        run(false, (engine, driver, in, out, metrics) -> {
            String host = "127.0.0.1:" + server.getAddress().getPort();
            in.pipeInput("ref".getBytes(StandardCharsets.UTF_8), AvroSerdes.imageEvent().encode(ImageEvent.newBuilder()
                    .setId("ref").setEventTime(Instant.EPOCH).setImage(new ImageReference("http://" + host + "/slow",
                            "image/png", null, null)).build()));
            for (int i = 0; i < BATCH; i++) {
                inline(in, "b-" + i, 10 + i);
            }
            // The batch behind the reference runs on the first model; its labels wait for the reference.
            DriverPump.until(driver, TICK, () -> waiting.get() == 1
                    && metrics.registry().get("labelstream.batch.size").summary().count() == 1);
            String firstSha = engine.models().primary().identity().sha256();

            LoadedModel second = LoadedModel.load(PoisonableModel.file(1), null, "second", new SessionSettings(1));
            engine.swap(second, BATCH);
            for (int i = 0; i < BATCH; i++) {
                inline(in, "c-" + i, 20 + i);
            }
            // The new images must wait: labeled now by the second model, they would come out before b-*.
            int[] ticks = {0};
            DriverPump.until(driver, TICK, () -> ++ticks[0] > 20);
            assertThat(metrics.registry().get("labelstream.batch.size").summary().count()).isEqualTo(1);
            release.countDown();

            List<ImageLabels> labels = read(driver, out, 1 + 2 * BATCH);
            assertThat(labels).extracting(ImageLabels::getId)
                    .containsExactly("ref", "b-0", "b-1", "b-2", "c-0", "c-1", "c-2");
            assertThat(labels.subList(0, 1 + BATCH)).allSatisfy(l -> {
                assertThat(l.getModel().getSha256()).isEqualTo(firstSha);
                assertThat(l.getModel().getName()).isEqualTo("first");
            });
            assertThat(top(labels.get(0))).as("the reference, by the first model")
                    .isEqualTo(PoisonableModel.classFor(SLOW_LEVEL, 0));
            assertThat(top(labels.get(1))).isEqualTo(PoisonableModel.classFor(10, 0));
            assertThat(labels.subList(1 + BATCH, labels.size())).allSatisfy(l -> {
                assertThat(l.getModel().getSha256()).isEqualTo(second.identity().sha256());
                assertThat(l.getModel().getName()).isEqualTo("second");
            });
            assertThat(top(labels.get(1 + BATCH))).as("c-0, by the second model")
                    .isEqualTo(PoisonableModel.classFor(20, 1));
        });
    }

    @Test
    void theDedupCacheAnswersOnlyForTheModelThatLabeledTheImage() throws Exception {
        run(true, (engine, driver, in, out, metrics) -> {
            inline(in, "a", 30);
            ImageLabels first = read(driver, out, 1).get(0);
            inline(in, "a-again", 30);
            ImageLabels cached = read(driver, out, 1).get(0);
            assertThat(cached.getFromCache()).isTrue();

            LoadedModel second = LoadedModel.load(PoisonableModel.file(1), null, "second", new SessionSettings(1));
            engine.swap(second, 1);
            inline(in, "a-after-swap", 30);
            ImageLabels after = read(driver, out, 1).get(0);
            assertThat(after.getFromCache()).as("the first model's answer is not the second's").isFalse();
            assertThat(after.getModel().getSha256()).isEqualTo(second.identity().sha256())
                    .isNotEqualTo(first.getModel().getSha256());
            assertThat(top(after)).isEqualTo(PoisonableModel.classFor(30, 1));
            inline(in, "a-after-swap-again", 30);
            ImageLabels cachedAfter = read(driver, out, 1).get(0);
            assertThat(cachedAfter.getFromCache()).isTrue();
            assertThat(cachedAfter.getModel().getSha256()).isEqualTo(second.identity().sha256());
            assertThat(top(cachedAfter)).isEqualTo(PoisonableModel.classFor(30, 1));
        });
    }
}
