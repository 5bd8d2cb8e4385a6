package io.labelstream.stream;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.FailureReason;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.kafka.KafkaContainer;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The basic end-to-end path against the official apache/kafka image, where Docker exists; skipped cleanly where
 * it does not (as on this project's machines). PipelineEndToEndIT covers the same path on Kafka's own broker
 * in-process, which runs everywhere.
 */
@Testcontainers(disabledWithoutDocker = true)
class TestcontainersKafkaIT {

    @Container
    static final KafkaContainer KAFKA = new KafkaContainer("apache/kafka:4.1.0");

    @TempDir
    Path state;

    @Test
    void labelsEveryImageOnceAndRoutesTheCorruptOneOnTheApacheKafkaImage() throws Exception {
        Map<String, String> s = new HashMap<>();
        s.put("bootstrap.servers", KAFKA.getBootstrapServers());
        s.put("application.id", "tc");
        s.put("model.path", TestModels.resnet18().toString());
        s.put("state.dir", state.toString());
        s.put("ops.port", "-1");
        LabelstreamConfig config = LabelstreamConfig.of(s);
        TopicTraffic traffic = new TopicTraffic(KAFKA.getBootstrapServers());
        try (LabelingEngine engine = EngineFactory.create(config)) {
            Pipeline pipeline = Pipeline.start(config, KAFKA.getBootstrapServers(), engine);
            try {
                assertThat(pipeline.awaitRunning(Duration.ofSeconds(90))).isTrue();
                List<String> ids = traffic.publishImages("images", "tc", 100, 320, 240);
                byte[] good = SyntheticImages.jpeg(320, 240, 1);
                traffic.publishRaw("images", "bad", TopicTraffic.event("bad", Arrays.copyOf(good, good.length / 2)));
                TopicTraffic.Outcome out = traffic.awaitOutcome("images", "image-labels", "image-failures", 101,
                        Duration.ofMinutes(3), pipeline::fatalError);
                assertThat(out.missing(ids)).isEmpty();
                assertThat(out.duplicates()).isEmpty();
                assertThat(out.failures()).singleElement()
                        .satisfies(f -> assertThat(f.getReason()).isEqualTo(FailureReason.UNDECODABLE_IMAGE));
            } finally {
                pipeline.close();
            }
        }
    }
}
