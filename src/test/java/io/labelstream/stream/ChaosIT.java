package io.labelstream.stream;

import io.labelstream.broker.KafkaTestCluster;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.testing.ChildInstance;
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
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Chaos with real processes: labelstream instances are separate JVMs, SIGKILLed at random while images flow
 * through a three-broker cluster; and the whole broker taken away for 20 s mid-stream. Every input id must end up
 * exactly once in labels ∪ failures. The short version runs in .ci/run; the full one is
 * {@code mvn -B verify -DskipUnitTests -Dit.test=ChaosIT -Dchaos.images=3000 -Dchaos.kills=6}.
 */
@Timeout(value = 20, unit = TimeUnit.MINUTES)
class ChaosIT {

    private static final int IMAGES = Integer.getInteger("chaos.images", 600);
    private static final int KILLS = Integer.getInteger("chaos.kills", 5);
    private static final long KILL_INTERVAL_MS = Long.getLong("chaos.interval.ms", 3000);

    @TempDir
    Path dir;

    private Map<String, String> settings(KafkaTestCluster kafka, String app, String name) {
        Map<String, String> s = new HashMap<>();
        s.put("bootstrap.servers", kafka.bootstrapServers());
        s.put("application.id", app);
        s.put("topics.partitions", "6");
        s.put("topics.replication.factor", String.valueOf(Math.min(3, kafka.size())));
        s.put("model.path", TestModels.resnet18().toString());
        s.put("model.intra.op.threads", "1");
        s.put("preprocess.threads", "1");
        s.put("state.dir", dir.resolve(name).toString());
        s.put("ops.port", "0");
        s.put("kafka.replication.factor", String.valueOf(Math.min(3, kafka.size())));
        s.put("kafka.session.timeout.ms", "6000");
        s.put("kafka.heartbeat.interval.ms", "1000");
        s.put("kafka.producer.transaction.timeout.ms", "8000");
        return s;
    }

    @Test
    void randomHardKillsOfInstancesLoseAndDuplicateNothing() throws Exception {
        Random random = new Random(42);
        List<ChildInstance> running = new ArrayList<>();
        List<ChildInstance> all = new ArrayList<>();
        try (KafkaTestCluster kafka = KafkaTestCluster.start(3, Map.of())) {
            TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
            int started = 0;
            for (; started < 3; started++) {
                ChildInstance c = ChildInstance.start("chaos-" + started, settings(kafka, "chaos", "chaos-" + started));
                running.add(c);
                all.add(c);
            }
            awaitTopic(traffic, "images", running);
            long t0 = System.nanoTime();
            List<String> ids = traffic.publishImages("images", "chaos", IMAGES, 320, 240);
            int kills = 0;
            while (kills < KILLS) {
                // Not a wait for a fact: the chaos itself, a kill every interval while images flow.
                Thread.sleep(KILL_INTERVAL_MS);
                ChildInstance victim = running.remove(random.nextInt(running.size()));
                victim.kill();
                kills++;
                ChildInstance replacement = ChildInstance.start("chaos-" + started,
                        settings(kafka, "chaos", "chaos-" + started));
                started++;
                running.add(replacement);
                all.add(replacement);
            }
            TopicTraffic.Outcome out = traffic.awaitOutcome("images", "image-labels", "image-failures", IMAGES,
                    Duration.ofMinutes(10), () -> null);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf("chaos: %d instances (3 at a time), %d SIGKILLs every %d ms, 3 brokers: in %d, labeled"
                            + " %d, failed %s, lost %d, duplicated %d, %.0f s%n", started, kills, KILL_INTERVAL_MS,
                    IMAGES, out.labels().size(), failedByReason(out), out.missing(ids).size(),
                    out.duplicates().size(), seconds);
            assertThat(out.missing(ids)).as("lost; last instance log:%n%s", running.get(0).log()).isEmpty();
            assertThat(out.duplicates()).as("duplicated").isEmpty();
            assertThat(out.failures()).isEmpty();
        } finally {
            for (ChildInstance c : all) {
                c.close();
            }
        }
    }

    @Test
    void theBrokerGoneFor20SecondsMidStreamLosesAndDuplicatesNothing() throws Exception {
        try (KafkaTestCluster kafka = KafkaTestCluster.start(1, Map.of())) {
            TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
            LabelstreamConfig config = LabelstreamConfig.of(settings(kafka, "outage", "outage"));
            try (LabelingEngine engine = EngineFactory.create(config)) {
                Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
                try {
                    assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).isTrue();
                    int images = Math.max(200, IMAGES / 2);
                    List<String> ids = traffic.publishImages("images", "outage", images, 320, 240);
                    TopicTraffic.Outcome before = traffic.awaitProgress("image-labels", "image-failures", images / 4,
                            Duration.ofMinutes(2), pipeline::fatalError);
                    kafka.stopAll();
                    // Not a wait for a fact: the outage itself, 20 s without a broker.
                    Thread.sleep(20_000);
                    kafka.startAll();
                    TopicTraffic.Outcome out = traffic.awaitOutcome("images", "image-labels", "image-failures", images,
                            Duration.ofMinutes(5), pipeline::fatalError);
                    System.out.printf("broker outage of 20 s: in %d, labeled before %d, labeled %d, failed %s, lost %d,"
                                    + " duplicated %d%n", images, before.total(), out.labels().size(),
                            failedByReason(out), out.missing(ids).size(), out.duplicates().size());
                    assertThat(out.missing(ids)).as("lost").isEmpty();
                    assertThat(out.duplicates()).as("duplicated").isEmpty();
                    assertThat(pipeline.state().isRunningOrRebalancing()).isTrue();
                } finally {
                    pipeline.close();
                }
            }
        }
    }

    private static String failedByReason(TopicTraffic.Outcome out) {
        return out.failures().stream().collect(Collectors.groupingBy(f -> f.getReason().name(), TreeMap::new,
                Collectors.counting())).toString();
    }

    /** Waits until every instance has created its topics and joined (its "running against" line). */
    private static void awaitTopic(TopicTraffic traffic, String topic, List<ChildInstance> instances) {
        await("every instance started").atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(250))
                .failFast(() -> {
                    for (ChildInstance c : instances) {
                        assertThat(c.isAlive()).as("instance alive; log:%n%s", c.log()).isTrue();
                    }
                })
                .until(() -> {
                    for (ChildInstance c : instances) {
                        if (!c.log().contains("running against")) {
                            return false;
                        }
                    }
                    return true;
                });
    }
}
