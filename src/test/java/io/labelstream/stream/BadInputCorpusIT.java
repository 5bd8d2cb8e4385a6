package io.labelstream.stream;

import com.sun.net.httpserver.HttpServer;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.testing.BadInputCorpus;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The whole bad-input corpus in one stream through a running pipeline on a real broker, twice: every input gets
 * its documented outcome exactly once, the pipeline keeps running, and heap after GC does not grow between rounds.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class BadInputCorpusIT {

    @TempDir
    Path dir;

    @Test
    void everyBadInputGetsItsDocumentedOutcomeAndThePipelineKeepsRunning() throws Exception {
        CountDownLatch never = new CountDownLatch(1);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(Executors.newCachedThreadPool());
        server.createContext("/silent", ex -> {
            try {
                never.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        server.createContext("/huge", ex -> {
            ex.sendResponseHeaders(200, 0);
            try (OutputStream out = ex.getResponseBody()) {
                byte[] block = new byte[64 * 1024];
                for (int i = 0; i < 1000; i++) {
                    out.write(block);
                }
            } catch (java.io.IOException ignored) {
                // the client stops reading at the size cap
            }
        });
        server.start();
        Path root = Files.createDirectories(dir.resolve("allowed"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        String base = "http://127.0.0.1:" + server.getAddress().getPort();
        List<BadInputCorpus.Case> corpus = BadInputCorpus.build(root, outside, base);
        assertThat(corpus).hasSizeGreaterThanOrEqualTo(30);

        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Map<String, String> s = new HashMap<>();
            s.put("bootstrap.servers", kafka.bootstrapServers());
            s.put("application.id", "corpus");
            s.put("model.path", TestModels.resnet18().toString());
            s.put("state.dir", dir.resolve("state").toString());
            s.put("fetch.file.roots", root.toString());
            s.put("fetch.http.hosts", "127.0.0.1:" + server.getAddress().getPort());
            s.put("fetch.timeout.ms", "1500");
            s.put("image.max.bytes", Integer.toString(BadInputCorpus.MAX_IMAGE_BYTES));
            LabelstreamConfig config = LabelstreamConfig.of(s);
            try (LabelingEngine engine = EngineFactory.create(config)) {
                Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
                try {
                    assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).isTrue();
                    long[] heapAfterRound = new long[2];
                    Map<String, List<String>> outcomes = new HashMap<>();
                    for (int round = 0; round < 2; round++) {
                        publish(kafka.bootstrapServers(), corpus, "r" + round + "-");
                        collect(new TopicTraffic(kafka.bootstrapServers()), outcomes, corpus.size() * (round + 1));
                        assertThat(pipeline.state().isRunningOrRebalancing()).as("still running").isTrue();
                        heapAfterRound[round] = heapAfterGc();
                    }
                    List<String> mismatches = new ArrayList<>();
                    for (int round = 0; round < 2; round++) {
                        for (BadInputCorpus.Case c : corpus) {
                            String key = "r" + round + "-" + c.key();
                            String expected = c.reason() == null ? "LABELED" : c.reason().name();
                            List<String> got = outcomes.getOrDefault(key, List.of());
                            if (!got.equals(List.of(expected))) {
                                mismatches.add(c.kind() + ": expected " + expected + ", got " + got);
                            }
                        }
                    }
                    assertThat(mismatches).isEmpty();
                    System.out.printf("bad-input corpus: %d kinds x 2 rounds, all as documented; heap after GC"
                                    + " %d MB after round 1, %d MB after round 2%n", corpus.size(),
                            heapAfterRound[0] >> 20, heapAfterRound[1] >> 20);
                    assertThat(heapAfterRound[1]).isLessThan(heapAfterRound[0] + (96L << 20));
                } finally {
                    pipeline.close();
                }
            }
        } finally {
            never.countDown();
            server.stop(0);
        }
    }

    private static void publish(String bootstrap, List<BadInputCorpus.Case> corpus, String prefix) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        p.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, 8 << 20);
        try (var producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (BadInputCorpus.Case c : corpus) {
                producer.send(new ProducerRecord<>("images", (prefix + c.key()).getBytes(StandardCharsets.UTF_8),
                        c.value()));
            }
            producer.flush();
        }
    }

    /**
     * Reads labels and failures (read_committed) until {@code expected} outcomes are known, by record key, and
     * until markers published behind the corpus have come out, so that an outcome written twice is seen twice.
     */
    private static void collect(TopicTraffic traffic, Map<String, List<String>> outcomes, int expected) {
        outcomes.clear();
        try (var outputs = traffic.committed("image-labels", "image-failures")) {
            outputs.awaitAll("images", expected, Duration.ofMinutes(2), () -> null);
            for (ConsumerRecord<byte[], byte[]> r : outputs.records()) {
                String key = new String(r.key(), StandardCharsets.UTF_8);
                String outcome = r.topic().equals("image-labels") ? "LABELED"
                        : AvroSerdes.imageFailure().deserializer().deserialize(r.topic(), r.value()).getReason().name();
                outcomes.computeIfAbsent(key, k -> new ArrayList<>()).add(outcome);
            }
        }
    }

    private static long heapAfterGc() {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }
}
