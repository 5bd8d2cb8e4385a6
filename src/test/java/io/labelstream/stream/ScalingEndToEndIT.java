package io.labelstream.stream;

import io.labelstream.broker.KafkaTestCluster;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scaling by consumer group on a real three-broker cluster (one controller): three instances share the input;
 * one is stopped mid-stream and a new one joins; every input must be accounted for exactly once.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class ScalingEndToEndIT {

    @TempDir
    Path stateDirs;

    private final List<Instance> instances = new ArrayList<>();

    private record Instance(LabelingEngine engine, Pipeline pipeline) implements AutoCloseable {
        @Override
        public void close() {
            pipeline.close(Duration.ofSeconds(30));
            engine.close();
        }
    }

    private Instance start(KafkaTestCluster kafka, String name) throws InterruptedException {
        Map<String, String> s = new HashMap<>();
        s.put("bootstrap.servers", kafka.bootstrapServers());
        s.put("application.id", "scaling");
        s.put("input.topics", "scaling-in");
        s.put("labels.topic", "scaling-labels");
        s.put("failures.topic", "scaling-failures");
        s.put("topics.partitions", "6");
        s.put("topics.replication.factor", "3");
        s.put("model.path", TestModels.resnet18().toString());
        s.put("model.intra.op.threads", "1");
        s.put("preprocess.threads", "1");
        s.put("state.dir", stateDirs.resolve(name).toString());
        s.put("kafka.replication.factor", "3");
        s.put("kafka.session.timeout.ms", "6000");
        s.put("kafka.heartbeat.interval.ms", "1000");
        LabelstreamConfig config = LabelstreamConfig.of(s);
        LabelingEngine engine = EngineFactory.create(config);
        Pipeline pipeline = Pipeline.start(config, config.get(Settings.BOOTSTRAP_SERVERS), engine);
        Instance instance = new Instance(engine, pipeline);
        instances.add(instance);
        assertThat(pipeline.awaitRunning(Duration.ofSeconds(90))).as("%s running", name).isTrue();
        return instance;
    }

    private Throwable anyFatal() {
        return instances.stream().map(i -> i.pipeline().fatalError()).filter(e -> e != null).findFirst().orElse(null);
    }

    @Test
    void threeInstancesShareTheInputAndLosingOneAndAddingOneCountsEveryImageOnce() throws Exception {
        try (KafkaTestCluster kafka = KafkaTestCluster.start(3, Map.of())) {
            TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
            try {
                Instance a = start(kafka, "a");
                start(kafka, "b");
                start(kafka, "c");
                List<String> ids = new ArrayList<>(traffic.publishImages("scaling-in", "first", 150, 320, 240));
                TopicTraffic.Outcome partial = traffic.awaitProgress("scaling-labels", "scaling-failures", 60,
                        Duration.ofMinutes(2), this::anyFatal);
                assertThat(partial.total()).isGreaterThanOrEqualTo(60);

                a.close(); // one instance leaves mid-stream; its partitions move to the other two
                instances.remove(a);
                ids.addAll(traffic.publishImages("scaling-in", "second", 75, 320, 240));
                start(kafka, "d"); // and a new one joins
                ids.addAll(traffic.publishImages("scaling-in", "third", 75, 320, 240));

                TopicTraffic.Outcome out = traffic.awaitOutcome("scaling-in", "scaling-labels", "scaling-failures",
                        ids.size(), Duration.ofMinutes(4), this::anyFatal);
                System.out.printf("scaling on 3 brokers: in %d, labeled %d, failed %d, duplicated %d, lost %d%n",
                        ids.size(), out.labels().size(), out.failures().size(), out.duplicates().size(),
                        out.missing(ids).size());
                assertThat(out.missing(ids)).as("lost").isEmpty();
                assertThat(out.duplicates()).as("duplicated").isEmpty();
                assertThat(out.labels()).hasSize(300);
                assertThat(out.failures()).isEmpty();
                // Every instance that ran did real work: partitions were spread across the group.
                assertThat(out.labels().stream().map(l -> l.getSource().getPartition()).distinct()).hasSize(6);
            } finally {
                for (Instance i : instances) {
                    i.close();
                }
            }
        }
    }
}
