package io.labelstream.cli;

import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;
import io.labelstream.testing.LogCapture;
import io.labelstream.testing.LogCapture.Logged;

import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Commands that run the pipeline on a real broker: demo (embedded), run against a broker that lacks its input,
 * model adapt whose model then runs in demo, and the pipeline benchmark (its own broker process). The commands
 * that need no broker are in {@link CliTest}.
 */
class CliIT {

    @TempDir
    Path dir;

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void demoLabelsEveryImageAndReportsTheCorruptOne() {
        Captured run = capture(() -> Main.execute("demo", "--images", "12", "--model",
                TestModels.resnet18().toString(), "-s", "state.dir=" + dir.resolve("state")));
        assertThat(run.exitCode()).as(run.out()).isZero();
        assertThat(run.out()).contains("Labeled 13, failed 2, of 15 published");
        assertThat(run.out().lines().filter(l -> l.startsWith("LABELED "))).hasSize(13);
        assertThat(run.out()).containsPattern("FAILED  demo-corrupt UNDECODABLE_IMAGE: .*\\[\\d+ original bytes kept");
        assertThat(run.out()).containsPattern("LABELED demo-reference ");
        assertThat(run.out()).containsPattern("FAILED  demo-escape +REFERENCE_REFUSED: .*outside the allowed roots");
        // What Prometheus and a readiness probe saw while the demo ran.
        assertThat(run.out()).contains("GET /health/ready -> 200 {\"status\":\"UP\",\"pipeline\":\"RUNNING\"}");
        assertThat(run.out()).contains("labelstream_images_labeled_total 13.0")
                .contains("labelstream_images_failed_total{reason=\"UNDECODABLE_IMAGE\"} 1.0")
                .contains("labelstream_images_failed_total{reason=\"REFERENCE_REFUSED\"} 1.0")
                // One single-threaded CPU worker per core, by default.
                .containsPattern("labelstream_model_info\\{name=\"resnet18-seed\\d+\",provider=\""
                        + io.labelstream.model.ExecutionProvider.cpuWorkers(Runtime.getRuntime().availableProcessors(), 1)
                        + "\"")
                .containsPattern("labelstream_inference_seconds_count \\d+")
                .containsPattern("labelstream_end_to_end_seconds_count 13");
        assertThat(run.out()).containsPattern("Kafka Streams' own metrics are there too, [1-9]\\d* lines");
    }

    @Test
    @Timeout(value = 4, unit = TimeUnit.MINUTES)
    void modelAdaptWritesAModelThatClassifyAndThePipelineRunAndRefusesFoldersThatAreNotClasses() throws Exception {
        Path fixtures = io.labelstream.testing.Fixtures.dir();
        Path folders = io.labelstream.testing.CifarFolders.make(dir.resolve("cifar"));
        Path out = dir.resolve("my-cifar.onnx");
        Captured adapt = capture(() -> Main.execute("model", "adapt", "--model",
                fixtures.resolve("models/cifar10-resnet20/model.onnx").toString(), "--preset", "cifar10", "--train",
                folders.resolve("train").toString(), "--eval", folders.resolve("test").toString(), "--out",
                out.toString()));
        assertThat(adapt.exitCode()).as(adapt.err()).isZero();
        assertThat(adapt.out()).contains("features: '207', the output of Reshape").contains("64 values per image")
                .contains("trained on 50 images").contains("airplane 5, automobile 5")
                .containsPattern("holdout: \\d+/10 = [\\d.]+ % top-1; nearest-centroid baseline \\d+/10")
                .containsPattern("evaluation \\(.*\\): 4\\d/50");
        Path labels = dir.resolve("my-cifar.labels.txt");
        assertThat(labels).exists();
        Captured classify = capture(() -> Main.execute("classify", "--model", out.toString(), "--labels",
                labels.toString(), "--preset", "cifar10", "--top", "1",
                fixtures.resolve("images/cifar10/truck8.png").toString()));
        assertThat(classify.exitCode()).as(classify.err()).isZero();
        assertThat(classify.out()).containsPattern("truck8\\.png +truck \\(");
        Captured demo = capture(() -> Main.execute("demo", "--images", "6", "--model", out.toString(), "--labels",
                labels.toString(), "-s", "preprocess.preset=cifar10", "-s", "state.dir=" + dir.resolve("state")));
        assertThat(demo.exitCode()).as(demo.out()).isZero();
        assertThat(demo.out()).contains("Labeled 7, failed 2, of 9 published")
                .containsPattern("labelstream_model_info\\{name=\"my-cifar\"");

        Captured flat = capture(() -> Main.execute("model", "adapt", "--model", out.toString(), "--train",
                fixtures.resolve("images/cifar10").toString(), "--out", dir.resolve("x.onnx").toString()));
        assertThat(flat.exitCode()).isEqualTo(2);
        assertThat(flat.err()).contains("has no sub-folders").contains("one folder per class");
        Captured holdout = capture(() -> Main.execute("model", "adapt", "--model", out.toString(), "--train",
                folders.resolve("train").toString(), "--holdout", "1.5", "--out", dir.resolve("x.onnx").toString()));
        assertThat(holdout.exitCode()).isEqualTo(2);
        assertThat(holdout.err()).contains("--holdout must be in [0, 0.9]");
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void runEndsWithExitCode1AndSaysWhyWhenThePipelineStopsByItself() throws Exception {
        // Nothing creates the input topic, so the first rebalance finds it missing and the instance goes to ERROR;
        // run is not polling for that, it is told.
        try (io.labelstream.broker.EmbeddedKafka kafka = io.labelstream.broker.EmbeddedKafka.start()) {
            Captured run = capture(() -> Main.execute("run", "--model", TestModels.resnet18().toString(),
                    "-s", "bootstrap.servers=" + kafka.bootstrapServers(), "-s", "topics.create=false",
                    "-s", "input.topics=never-created", "-s", "ops.port=0",
                    "-s", "state.dir=" + dir.resolve("state")));
            assertThat(run.exitCode()).as(run.err()).isEqualTo(1);
            assertThat(run.err()).contains("labelstream: pipeline stopped (ERROR)").contains("source topics were missing");
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES)
    void runWithEmbeddedBrokerStartsOneInTheProcessAndRunsThePipelineOnIt() {
        // As in runEndsWithExitCode1AndSaysWhyWhenThePipelineStopsByItself, a missing input topic stops the
        // pipeline by itself, which ends run: the embedded broker answered the pipeline, and run closed it all.
        Logged<Captured> run = LogCapture.run(() -> capture(() -> Main.execute("run", "--embedded-broker",
                "--model", TestModels.resnet18().toString(), "-s", "topics.create=false",
                "-s", "input.topics=never-created", "-s", "ops.port=0", "-s", "state.dir=" + dir.resolve("state"))));
        assertThat(run.result().exitCode()).as(run.result().err()).isEqualTo(1);
        assertThat(run.result().out()).containsPattern(
                "labelstream running against 127\\.0\\.0\\.1:\\d+ \\(the embedded broker\\)");
        assertThat(run.result().err()).contains("labelstream: pipeline stopped (ERROR)")
                .contains("source topics were missing");
        assertThat(run.lines()).anyMatch(l -> l.startsWith("io.labelstream.broker.EmbeddedKafka Embedded Kafka")
                && l.contains("ready at 127.0.0.1:"));
    }

    @Test
    @Timeout(value = 3, unit = TimeUnit.MINUTES)
    void pipelineBenchmarkPrintsItsTablesAndWritesCsvAndChart(@org.junit.jupiter.api.io.TempDir java.nio.file.Path out)
            throws Exception {
        Captured run = capture(() -> Main.execute("bench", "pipeline", "--models", "resnet18", "--sizes", "224x224",
                "--batch-sizes", "8", "--rounds", "1", "--seconds", "0.5", "--pipeline-seconds", "0.5",
                "--cost-seconds", "0.5", "--loads", "0.5", "--latency-warmup", "PT2S", "--latency-duration", "PT3S", "--latency-size", "224x224", "--backlog", "48", "--idle", "PT2S",
                "--out", out.toString()));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out())
                .containsPattern("resnet18 +224×224 +8 +[0-9.]+ +\\([0-9.]+–[0-9.]+\\) +[0-9.]+ +\\([0-9.]+–[0-9.]+\\) ×[0-9.]+")
                .containsPattern("resnet18 +50% +[0-9.]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9]+ ms: (met|missed)")
                .containsPattern("48 images in [0-9]+ s .*peak RSS [0-9]+ MB, peak heap in use [1-9][0-9]* MB")
                .containsPattern("resnet18 224×224 b8 +[0-9.]+ +\\([0-9.]+–[0-9.]+\\) +[0-9.]+ +\\([0-9.]+–[0-9.]+\\) +[0-9]\\.[0-9]{3} ")
                .containsPattern("labelstream run: [0-9.]+ +\\(")
                .containsPattern("224×224 +[0-9]+ +[0-9]+ +[0-9]+ +[0-9.]+ +[0-9.]+ +[0-9.]+ +[0-9.]+")
                .contains("the idle broker beside it");
        // The run's own work beside inference: CPU in its other threads, and the ratio it alone would leave.
        assertThat(run.out()).containsPattern("resnet18 224×224 b8 +[0-9.]+ +\\([0-9.–]+\\) +[0-9.]+ +\\([0-9.–]+\\) "
                + "+[0-9.]+ \\([0-9.–]+\\) +[0-9.]+ +\\([0-9.–]+\\) +[0-9]+\\.[0-9]{2} \\([0-9.–]+\\) +0\\.[0-9]{3} ");
        java.util.List<String> cost = java.nio.file.Files.readAllLines(out.resolve("bench-cost.csv"));
        assertThat(cost.get(0)).startsWith("configuration,round,bare_cpu_ms_per_image,run_cpu_ms_per_image,"
                + "bare_over_run,run_images_per_second,outside_inference_ms_per_image,bare_over_bare_plus_outside,"
                + "us_per_image_stream_thread,us_per_image_inference,us_per_image_preprocess,");
        assertThat(cost).filteredOn(l -> l.startsWith("resnet18 224×224 b8,1,")).singleElement().satisfies(row -> {
            String[] f = row.split(",");
            double outside = Double.parseDouble(f[6]);
            assertThat(outside).isPositive().isLessThan(Double.parseDouble(f[3]));
            assertThat(Double.parseDouble(f[7])).isBetween(0.0, 1.0);
            // A backlog's full batches are decoded by the preprocess pool, one thread per core; with one core the
            // batch thread decodes them itself and counts as inference.
            if (Runtime.getRuntime().availableProcessors() > 1) {
                assertThat(Double.parseDouble(f[10])).isPositive();
            }
        });
        java.util.List<String> csv = java.nio.file.Files.readAllLines(out.resolve("bench-throughput.csv"));
        assertThat(csv.get(0)).isEqualTo("model,images,batch,series,round,images_per_second");
        assertThat(csv).anyMatch(l -> l.startsWith("resnet18,224×224,8,ceiling,1,"))
                .anyMatch(l -> l.startsWith("resnet18,224×224,8,engine,1,"))
                .anyMatch(l -> l.startsWith("resnet18,224×224,8,pipeline,1,"));
        java.util.List<String> latency = java.nio.file.Files.readAllLines(out.resolve("bench-latency.csv"));
        assertThat(latency).hasSize(2);
        // Each image of the timed part has its row, as many as it offered, none sent in the first second of the
        // untimed 2 before it (no upper bound: how late the timed ones went out depends on the machine's speed).
        java.util.List<String> images = java.nio.file.Files.readAllLines(out.resolve("bench-latency-images.csv"));
        assertThat(images.get(0)).isEqualTo("model,level,load_percent,sent_ms,latency_ms,batch_size");
        // The run sends round(rate × 3 s) images; the CSV prints the rate to two decimals, so a count at a half
        // (17.4983/s: 52 images, printed 17.50) may round either way from the printed figure.
        double offered = Double.parseDouble(latency.get(1).split(",")[4]);
        assertThat(images.size() - 1).isBetween((int) Math.round((offered - 0.005) * 3),
                (int) Math.round((offered + 0.005) * 3));
        assertThat(images.subList(1, images.size())).allSatisfy(row -> {
            String[] f = row.split(",");
            assertThat(f[0]).isEqualTo("resnet18");
            assertThat(Double.parseDouble(f[3])).isGreaterThan(-1000.0);
            assertThat(Double.parseDouble(f[4])).isPositive();
            assertThat(Integer.parseInt(f[5])).isBetween(1, 8);
        });
        byte[] png = java.nio.file.Files.readAllBytes(out.resolve("bench.png"));
        assertThat(javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png)).getWidth()).isGreaterThan(800);
    }

    private static Captured capture(java.util.function.IntSupplier body) {
        return ConsoleCapture.run(body);
    }
}
