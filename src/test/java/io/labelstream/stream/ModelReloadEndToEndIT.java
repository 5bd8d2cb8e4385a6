package io.labelstream.stream;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.testing.CommittedRecords;
import io.labelstream.testing.PipelineSettings;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code model.reload=watch} against a real KRaft broker under exactly-once: model files replaced while the
 * instance labels a backlog, read back with a read_committed consumer.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ModelReloadEndToEndIT {

    private static final int SWAPS = 5;
    private static EmbeddedKafka kafka;
    private static TopicTraffic traffic;

    @TempDir
    Path dir;

    @BeforeAll
    static void startBroker() {
        kafka = EmbeddedKafka.start();
        traffic = new TopicTraffic(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private Map<String, String> settings(String app, Path model) {
        Map<String, String> s = PipelineSettings.of(kafka.bootstrapServers(), app, model, dir.resolve("state"));
        s.put("model.reload", "watch");
        s.put("model.reload.interval.ms", "200");
        s.put("model.intra.op.threads", "2");
        return s;
    }

    /** A running instance, its metrics, and a read_committed reader of its outputs. */
    private record Instance(Pipeline pipeline, LabelingEngine engine, PrometheusMeterRegistry registry,
                            OutputReader out) implements AutoCloseable {

        static Instance start(Map<String, String> settings) throws InterruptedException {
            LabelstreamConfig config = LabelstreamConfig.of(settings);
            LabelingEngine engine = EngineFactory.create(config);
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            Pipeline pipeline = Pipeline.start(config, config.get(Settings.BOOTSTRAP_SERVERS), engine,
                    new PipelineMetrics(registry));
            assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).as("pipeline reached RUNNING").isTrue();
            return new Instance(pipeline, engine, registry, new OutputReader(config.get(Settings.LABELS_TOPIC),
                    config.get(Settings.FAILURES_TOPIC)));
        }

        double reloads(String result) {
            return registry.get("labelstream.model.reloads").tag("result", result).counter().count();
        }

        @Override
        public void close() {
            pipeline.close();
            engine.close();
            out.close();
        }
    }

    /** Reads both output topics from the start, read_committed, on the test's thread whenever it is asked. */
    private static final class OutputReader implements AutoCloseable {
        private final CommittedRecords outputs;
        private final String labelsTopic;
        final List<ImageLabels> labels = new ArrayList<>();
        final List<ImageFailure> failures = new ArrayList<>();

        OutputReader(String labelsTopic, String failuresTopic) {
            this.labelsTopic = labelsTopic;
            outputs = traffic.committed(labelsTopic, failuresTopic);
        }

        /** One poll; returns how many outputs are in. */
        int read() {
            outputs.poll();
            return decodeNew();
        }

        /** Reads all that the instance writes for what {@code input} holds now ({@link CommittedRecords#awaitAll}). */
        int readAll(String input, int count, Duration atMost) {
            outputs.awaitAll(input, count, atMost, () -> null);
            return decodeNew();
        }

        private int decodeNew() {
            List<ConsumerRecord<byte[], byte[]>> all = outputs.records();
            for (int i = labels.size() + failures.size(); i < all.size(); i++) {
                ConsumerRecord<byte[], byte[]> r = all.get(i);
                try {
                    if (r.topic().equals(labelsTopic)) {
                        labels.add(AvroSerdes.imageLabels().decode(r.value()));
                    } else {
                        failures.add(AvroSerdes.imageFailure().decode(r.value()));
                    }
                } catch (io.labelstream.schema.RecordDecodeException e) {
                    throw new AssertionError(e);
                }
            }
            return labels.size() + failures.size();
        }

        @Override
        public void close() {
            outputs.close();
        }
    }

    private static void replace(Path target, Path with) throws Exception {
        Path tmp = Files.createTempFile(target.getParent(), "next", ".part");
        Files.copy(with, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Bounded, generous: loading and warming up a model takes what the machine needs. On the test's thread, as
     * the output reader's consumer is polled there.
     */
    private static ConditionFactory await(String what, Duration limit) {
        return Awaitility.await(what).atMost(limit).pollInSameThread().pollInterval(Duration.ofMillis(20));
    }

    @Test
    void fiveModelsReplacedUnderLoadLabelEveryImageOnceAndEachPartitionChangesModelOncePerSwap() throws Exception {
        String app = "reload-swaps";
        List<Path> models = new ArrayList<>();
        for (int i = 0; i <= SWAPS; i++) {
            models.add(TestModels.resnet18(1000 + i));
        }
        List<String> shas = new ArrayList<>();
        for (Path m : models) {
            shas.add(LoadedModel.sha256(m));
        }
        Path model = dir.resolve("model.onnx");
        Files.copy(models.get(0), model);
        List<String> published = new ArrayList<>();
        try (Instance instance = Instance.start(settings(app, model))) {
            int[] chunk = {0};
            // Keeps a backlog of a few batches per partition, so every swap happens while the instance labels.
            Runnable topUp = () -> {
                if (published.size() - instance.out().read() < 48) {
                    published.addAll(traffic.publishImages(app + "-in", "c" + chunk[0]++, 16, 320, 240));
                }
            };
            for (int swap = 1; swap <= SWAPS; swap++) {
                String next = shas.get(swap);
                // The previous model has labeled images of its own before it is replaced.
                String current = shas.get(swap - 1);
                await("labels by model " + (swap - 1), Duration.ofMinutes(2)).until(() -> {
                    topUp.run();
                    return instance.out().labels.stream().anyMatch(l -> l.getModel().getSha256().equals(current));
                });
                replace(model, models.get(swap));
                int expected = swap;
                await("swap " + swap, Duration.ofMinutes(2)).until(() -> {
                    topUp.run();
                    return instance.reloads("loaded") == expected;
                });
                assertThat(instance.engine().models().primary().identity().sha256()).isEqualTo(next);
            }
            // Published after the last swap: the last model labels every one of them.
            List<String> last = traffic.publishImages(app + "-in", "after", 16, 320, 240);
            published.addAll(last);
            // Until every image's output is in and markers published behind them have come out: a duplicate
            // arriving late is counted too.
            instance.out().readAll(app + "-in", published.size(), Duration.ofMinutes(4));

            OutputReader out = instance.out();
            assertThat(out.failures).as("failures").isEmpty();
            Map<String, Long> counts = out.labels.stream().collect(Collectors.groupingBy(ImageLabels::getId,
                    Collectors.counting()));
            assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(published);
            assertThat(counts.values()).as("each image labeled once").allMatch(n -> n == 1);

            // In input order, per partition, the models that labeled it follow the order of the swaps.
            Map<Integer, List<ImageLabels>> byPartition = new TreeMap<>(out.labels.stream().collect(
                    Collectors.groupingBy(l -> l.getSource().getPartition())));
            List<String> perPartition = new ArrayList<>();
            for (var entry : byPartition.entrySet()) {
                List<Integer> generations = entry.getValue().stream()
                        .sorted(Comparator.comparingLong(l -> l.getSource().getOffset()))
                        .map(l -> shas.indexOf(l.getModel().getSha256())).toList();
                assertThat(generations).as("partition %d: models in input order", entry.getKey())
                        .doesNotContain(-1).isSorted();
                perPartition.add(entry.getKey() + ": " + runs(generations));
            }
            assertThat(out.labels.stream().filter(l -> last.contains(l.getId())))
                    .allSatisfy(l -> assertThat(l.getModel().getSha256()).isEqualTo(shas.get(SWAPS)));
            for (int i = 0; i <= SWAPS; i++) {
                String sha = shas.get(i);
                assertThat(out.labels).as("labels by model %d", i).anyMatch(l -> l.getModel().getSha256().equals(sha));
            }
            assertThat(instance.reloads("loaded")).isEqualTo(SWAPS);
            assertThat(instance.reloads("refused")).isZero();
            assertThat(instance.registry().scrape()).contains("labelstream_model_reloads_total{result=\"loaded\"} 5.0")
                    .contains("sha256=\"" + shas.get(SWAPS) + "\"").doesNotContain("sha256=\"" + shas.get(0) + "\"");

            // Figures, not assertions: the longest gap between labels, against a batch of the model after it.
            List<ImageLabels> byTime = out.labels.stream().sorted(Comparator.comparing(ImageLabels::getLabeledAt))
                    .toList();
            long longestGap = 0;
            String after = "";
            for (int i = 1; i < byTime.size(); i++) {
                long gap = Duration.between(byTime.get(i - 1).getLabeledAt(), byTime.get(i).getLabeledAt()).toMillis();
                if (gap > longestGap) {
                    longestGap = gap;
                    after = byTime.get(i).getModel().getSha256();
                }
            }
            String newModel = after;
            double batchMs = out.labels.stream().filter(l -> l.getModel().getSha256().equals(newModel))
                    .mapToDouble(l -> l.getTimings().getPreprocessMs() + l.getTimings().getInferenceMs()).sorted()
                    .skip(out.labels.stream().filter(l -> l.getModel().getSha256().equals(newModel)).count() / 2)
                    .findFirst().orElse(0);
            System.out.printf("%d swaps, %d images: longest gap between consecutive labels %d ms, median batch time"
                            + " of the model after it %.0f ms (%.2f×); models per partition in input order %s%n",
                    SWAPS, published.size(), longestGap, batchMs, longestGap / Math.max(1, batchMs), perPartition);
        }
    }

    /** {@code [0, 0, 1, 1, 1, 2]} as {@code 0×2 1×3 2×1}. */
    private static String runs(List<Integer> generations) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < generations.size(); ) {
            int j = i;
            while (j < generations.size() && generations.get(j).equals(generations.get(i))) {
                j++;
            }
            b.append(b.length() == 0 ? "" : " ").append(generations.get(i)).append('×').append(j - i);
            i = j;
        }
        return b.toString();
    }

    @Test
    void aCorruptReplacementIsRefusedAndTheModelInUseKeepsLabeling() throws Exception {
        String app = "reload-corrupt";
        Path model = dir.resolve("model.onnx");
        Files.copy(TestModels.resnet18(), model);
        String sha = LoadedModel.sha256(model);
        List<String> published = new ArrayList<>();
        try (Instance instance = Instance.start(settings(app, model))) {
            published.addAll(traffic.publishImages(app + "-in", "before", 24, 320, 240));
            await("the first labels", Duration.ofMinutes(2)).until(() -> instance.out().read() >= 8);

            // Half a model file, as a copy cut short would leave it.
            byte[] whole = Files.readAllBytes(TestModels.resnet18(1000));
            Path tmp = Files.createTempFile(dir, "cut", ".part");
            Files.write(tmp, java.util.Arrays.copyOf(whole, whole.length / 2));
            Files.move(tmp, model, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            await("the refusal", Duration.ofMinutes(2)).until(() -> instance.reloads("refused") == 1);

            published.addAll(traffic.publishImages(app + "-in", "after", 24, 320, 240));
            await("every image's output", Duration.ofMinutes(3)).until(() -> instance.out().read() >= published.size());
            OutputReader out = instance.out();
            assertThat(out.failures).isEmpty();
            assertThat(out.labels).extracting(ImageLabels::getId).containsExactlyInAnyOrderElementsOf(published);
            assertThat(out.labels).allSatisfy(l -> assertThat(l.getModel().getSha256()).isEqualTo(sha));
            assertThat(instance.reloads("loaded")).isZero();
            assertThat(instance.registry().scrape()).contains("labelstream_model_reloads_total{result=\"refused\"} 1.0")
                    .contains("sha256=\"" + sha + "\"");
        }
    }
}
