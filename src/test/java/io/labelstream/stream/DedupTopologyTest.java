package io.labelstream.stream;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageLabels;
import io.labelstream.testing.PoisonableModel;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

class DedupTopologyTest {

    private TopologyTestDriver driver;
    private TestInputTopic<byte[], byte[]> in;
    private TestOutputTopic<byte[], byte[]> labels;

    private ImageLabels send(String id, int level) {
        in.pipeInput(id.getBytes(StandardCharsets.UTF_8), TopicTraffic.event(id, PoisonableModel.image(level)));
        var out = io.labelstream.testing.DriverPump.read(driver, Duration.ofMillis(10), labels, 1);
        assertThat(out).hasSize(1);
        return AvroSerdes.imageLabels().deserializer().deserialize("labels", out.get(0).value());
    }

    @Test
    void seenBytesAreAnsweredFromTheCacheWithinItsCountAndAgeBounds() throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 2, Scores.OutputKind.AUTO, 1)) {
            var metrics = io.labelstream.ops.PipelineMetrics.inMemory();
            var options = new LabelingTopology.Options(io.labelstream.schema.Topics.named(List.of("in"), null, "labels", "failures", "flagged"),
                    ModerationRules.none(), null, new LabelingTopology.DedupOptions(2, 60_000), metrics, 1, 1000,
                    1, Duration.ofMillis(10), TransactionBudget.defaults(1));
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "dedup-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            props.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/dedup-test-" + System.nanoTime());
            try (TopologyTestDriver driver = new TopologyTestDriver(LabelingTopology.build(options, engine), props,
                    Instant.EPOCH)) {
                this.driver = driver;
                in = driver.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
                labels = driver.createOutputTopic("labels", new ByteArrayDeserializer(), new ByteArrayDeserializer());

                ImageLabels first = send("a-1", 13);
                assertThat(first.getFromCache()).isFalse();
                ImageLabels again = send("a-2", 13);
                assertThat(again.getFromCache()).isTrue();
                assertThat(again.getId()).isEqualTo("a-2");
                assertThat(again.getLabels()).isEqualTo(first.getLabels());
                assertThat(again.getBatchSize()).isZero();
                assertThat(send("other", 14).getFromCache()).isFalse();

                // Count bound: two more distinct images push the first one out.
                send("b", 15);
                assertThat(send("a-3", 13).getFromCache()).as("evicted by count").isFalse();
                assertThat(send("b-again", 15).getFromCache()).isTrue();

                // Age bound.
                driver.advanceWallClockTime(Duration.ofSeconds(61));
                assertThat(send("b-later", 15).getFromCache()).as("expired by age").isFalse();
                assertThat(metrics.registry().get("labelstream.dedup.hits").counter().count()).isEqualTo(2);
                assertThat(metrics.registry().get("labelstream.images.labeled").counter().count()).isEqualTo(7);
            }
        }
    }
}
