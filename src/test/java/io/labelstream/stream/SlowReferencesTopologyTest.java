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
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.testing.DriverPump;
import io.labelstream.testing.PoisonableModel;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
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
 * A reference whose server never answers holds up nothing but itself: inline images before it are labeled while
 * it hangs, images after it are batched and inferred without it, and they come out right after it, once it has
 * failed within its own time limit.
 */
class SlowReferencesTopologyTest {

    private static final Duration TICK = Duration.ofMillis(10);
    private static final int BATCH = 3;

    private HttpServer server;
    private final CountDownLatch release = new CountDownLatch(1);
    private final AtomicInteger hanging = new AtomicInteger();

    @BeforeEach
    void serve() throws Exception {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/hang", ex -> {
            hanging.incrementAndGet();
            try {
                release.await(); // accepts the request, never answers until the test lets it go
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            hanging.decrementAndGet();
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        release.countDown();
        server.stop(0);
    }

    @Test
    void imagesBeforeAHangingReferenceAreLabeledWhileItHangsAndThoseAfterItAreInferredWithoutIt() throws Exception {
        // A time limit beyond the test: only the test ends the hanging fetch.
        run(600_000, (driver, out, metrics) -> {
            assertThat(readBefore(driver, out)).extracting(ImageLabels::getId).containsExactly("a-0", "a-1", "a-2");
            // Only the test lets the server answer, so the reference's fetch is still open: it reaches the server.
            DriverPump.until(driver, TICK, () -> hanging.get() == 1);
            // The batch after the reference runs too; its labels wait only for the reference's outcome.
            DriverPump.until(driver, TICK, () -> metrics.registry().get("labelstream.batch.size").summary().count() == 2);
            assertThat(out.isEmpty()).isTrue();
            release.countDown();
        });
    }

    @Test
    void aReferenceThatNeverAnswersFailsWithinItsTimeLimitAndTheImagesAfterItFollowAtOnce() throws Exception {
        ImageFailure failed = run(1500, (driver, out, metrics) -> assertThat(readBefore(driver, out))
                .extracting(ImageLabels::getId).containsExactly("a-0", "a-1", "a-2"));
        assertThat(failed.getMessage()).contains("1500 ms").contains("fetch.timeout.ms");
    }

    private interface WhileRunning {
        void check(TopologyTestDriver driver, TestOutputTopic<byte[], byte[]> out, PipelineMetrics metrics)
                throws Exception;
    }

    /** @return the reference's failure */
    private ImageFailure run(int fetchTimeoutMs, WhileRunning whileRunning) throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        String host = "127.0.0.1:" + server.getAddress().getPort();
        PipelineMetrics metrics = PipelineMetrics.inMemory();
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 2, Scores.OutputKind.AUTO, 1);
             ReferenceFetcher fetcher = new ReferenceFetcher(new ReferenceFetcher.Policy(List.of(), Set.of(host),
                     fetchTimeoutMs, 1 << 20, 2))) {
            // Labels and failures share one topic, so their order across both shows.
            var options = new LabelingTopology.Options(io.labelstream.schema.Topics.named(List.of("in"), null, "out", "out", "flagged"),
                    ModerationRules.none(), fetcher, null, metrics, BATCH, 60_000, 2, TICK,
                    TransactionBudget.defaults(BATCH));
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "slow-references-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            try (TopologyTestDriver driver = new TopologyTestDriver(LabelingTopology.build(options, engine), props,
                    Instant.EPOCH)) {
                var in = driver.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
                var out = driver.createOutputTopic("out", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                for (int i = 0; i < BATCH; i++) {
                    in.pipeInput(key("a-" + i), TopicTraffic.event("a-" + i, PoisonableModel.image(10 + i)));
                }
                in.pipeInput(key("ref"), AvroSerdes.imageEvent().encode(ImageEvent.newBuilder().setId("ref")
                        .setEventTime(Instant.EPOCH).setImage(new ImageReference("http://" + host + "/hang",
                                "image/png", null, null)).build()));
                for (int i = 0; i < BATCH; i++) {
                    in.pipeInput(key("b-" + i), TopicTraffic.event("b-" + i, PoisonableModel.image(20 + i)));
                }
                whileRunning.check(driver, out, metrics);

                List<byte[]> rest = DriverPump.read(driver, TICK, out, BATCH + 1).stream().map(r -> r.value()).toList();
                ImageFailure failed = AvroSerdes.imageFailure().decode(rest.get(0));
                assertThat(failed.getId()).isEqualTo("ref");
                assertThat(failed.getReason()).isEqualTo(FailureReason.FETCH_FAILED);
                List<ImageLabels> after = rest.subList(1, rest.size()).stream().map(v -> labels(v)).toList();
                assertThat(after).extracting(ImageLabels::getId).containsExactly("b-0", "b-1", "b-2");
                assertThat(after).allSatisfy(l -> assertThat(l.getBatchSize()).as("batched without the reference")
                        .isEqualTo(BATCH));
                assertThat(driver.getKeyValueStore(LabelingTopology.BUFFER_STORE).approximateNumEntries()).isZero();
                return failed;
            }
        }
    }

    private static List<ImageLabels> readBefore(TopologyTestDriver driver, TestOutputTopic<byte[], byte[]> out) {
        return DriverPump.read(driver, TICK, out, BATCH).stream().map(r -> labels(r.value())).toList();
    }

    private static byte[] key(String id) {
        return id.getBytes(StandardCharsets.UTF_8);
    }

    private static ImageLabels labels(byte[] value) {
        ImageLabels labels = labelsOrNull(value);
        assertThat(labels).as("a labels record").isNotNull();
        return labels;
    }

    private static ImageLabels labelsOrNull(byte[] value) {
        try {
            return AvroSerdes.imageLabels().decode(value);
        } catch (io.labelstream.schema.RecordDecodeException e) {
            return null;
        }
    }
}
