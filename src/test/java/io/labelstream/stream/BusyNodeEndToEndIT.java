package io.labelstream.stream;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A node whose cores are all taken by another process's work must not stop labelstream from starting, nor make
 * it lose or repeat anything: a generated ResNet-50 with default settings (batch 8, four partitions on one stream
 * thread, Kafka Streams' 10 s transactions) on a real broker, while CPU-bound threads occupy every core.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class BusyNodeEndToEndIT {

    @TempDir
    Path stateDir;

    @Test
    void startsAndLabelsEveryImageExactlyOnceWhileEveryCoreIsBusy() throws Exception {
        Path model = TestModels.resnet50(); // generated before the cores are taken: it is not what is tested
        AtomicBoolean busy = new AtomicBoolean(true);
        List<Thread> burners = new ArrayList<>();
        for (int i = 0; i < Runtime.getRuntime().availableProcessors(); i++) {
            Thread t = new Thread(() -> {
                double x = 1;
                while (busy.get()) {
                    x = Math.sin(x) + 1.0000001; // pure CPU, never yields
                }
                if (x == 42) {
                    System.out.println(x); // keeps the loop from being optimised away
                }
            }, "cpu-burner-" + i);
            t.setDaemon(true);
            t.start();
            burners.add(t);
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String app = "busy-node";
            LabelstreamConfig config = LabelstreamConfig.of(Map.of(
                    "bootstrap.servers", kafka.bootstrapServers(),
                    "application.id", app,
                    "input.topics", app + "-in",
                    "labels.topic", app + "-labels",
                    "failures.topic", app + "-failures",
                    "model.path", model.toString(),
                    "state.dir", stateDir.toString(),
                    "ops.port", "0"));
            try (LabelingEngine engine = EngineFactory.create(config);
                 Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine)) {
                assertThat(pipeline.awaitRunning(Duration.ofMinutes(3))).as("started on a busy node").isTrue();
                TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
                // More than the four tasks' buffers hold (8 × 3 each): their stream thread has to hold back too.
                List<String> ids = traffic.publishImages(app + "-in", "busy", 120, 224, 224);
                TopicTraffic.Outcome out = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures",
                        ids.size(), Duration.ofMinutes(6), pipeline::fatalError);
                assertThat(out.missing(ids)).as("lost").isEmpty();
                assertThat(out.duplicates()).as("duplicated").isEmpty();
                assertThat(out.failures()).isEmpty();
                assertThat(out.labels()).hasSize(ids.size());
                assertThat(pipeline.fatalError()).isNull();
            }
        } finally {
            busy.set(false);
            for (Thread t : burners) {
                t.join(10_000);
            }
        }
    }
}
