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

class CliTest {

    /** A cluster for runs that stop on their model before they would connect: never contacted. */
    private static final String UNCONTACTED_CLUSTER = "127.0.0.1:9";

    @TempDir
    Path dir;

    @Test
    void aBadSettingStopsStartUpNamingTheSetting() {
        Captured run = capture(() -> Main.execute("run", "-s", "max.batch.size=zero"));
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Invalid setting max.batch.size='zero'");
        Captured noModel = capture(() -> Main.execute("run", "--bootstrap-servers", UNCONTACTED_CLUSTER));
        assertThat(noModel.exitCode()).isEqualTo(2);
        assertThat(noModel.err()).contains("model.path is required");
        Captured missing = capture(() -> Main.execute("run", "--bootstrap-servers", UNCONTACTED_CLUSTER, "--model",
                dir.resolve("nope.onnx").toString()));
        assertThat(missing.err()).contains("Invalid setting model.path=").contains("no such file");
    }

    @Test
    void modelGenerateWritesALoadableModel() throws Exception {
        Path out = dir.resolve("m.onnx");
        Captured run = capture(() -> Main.execute("model", "generate", "--arch", "resnet18", "--out", out.toString()));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(Files.size(out)).isGreaterThan(40_000_000L);
        assertThat(run.out()).contains("resnet18").contains("sha256");
        Captured bad = capture(() -> Main.execute("model", "generate", "--arch", "vgg16", "--out", out.toString()));
        assertThat(bad.exitCode()).isEqualTo(2);
        assertThat(bad.err()).contains("allowed: resnet18, resnet34, resnet50, resnet101, resnet152");
    }

    @Test
    void classifyPrintsTheRightCifarClassesForTheFixtureImages() {
        Path fixtures = io.labelstream.testing.Fixtures.dir();
        Path model = fixtures.resolve("models/cifar10-resnet20");
        Captured run = capture(() -> Main.execute("classify", "--model", model.resolve("model.onnx").toString(),
                "--labels", model.resolve("labels.txt").toString(), "--preset", "cifar10", "--top", "1",
                fixtures.resolve("images/cifar10/airplane1.png").toString(),
                fixtures.resolve("images/cifar10/truck3.png").toString(),
                fixtures.resolve("images/cifar10/frog2.png").toString()));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.out()).containsPattern("airplane1\\.png +airplane \\(")
                .containsPattern("truck3\\.png +truck \\(").containsPattern("frog2\\.png +frog \\(");
    }

    @Test
    void modelQuantizeWritesAnInt8ModelThatClassifyRunsAndSaysWhatIsWrongWithBadArguments() throws Exception {
        Path fixtures = io.labelstream.testing.Fixtures.dir();
        Path model = fixtures.resolve("models/cifar10-resnet20");
        Path out = dir.resolve("cifar-int8.onnx");
        // An unreadable calibration file is skipped with its reason, not fatal.
        Path broken = dir.resolve("calibration");
        Files.createDirectories(broken);
        Files.write(broken.resolve("broken.png"), new byte[] {1, 2, 3});
        Captured run = capture(() -> Main.execute("model", "quantize", "--model", model.resolve("model.onnx").toString(),
                "--labels", model.resolve("labels.txt").toString(), "--preset", "cifar10", "--calibration",
                fixtures.resolve("images/cifar10").toString(), broken.resolve("broken.png").toString(),
                "--method", "percentile", "--out", out.toString()));
        assertThat(run.exitCode()).as(run.err()).isZero();
        assertThat(run.err()).contains("skipped calibration image").contains("broken.png");
        assertThat(run.out()).contains("int8-percentile-").contains("top-1 agreement with fp32")
                .contains("quantized nodes: {Add=9, Conv=21, Gemm=1");
        Captured classify = capture(() -> Main.execute("classify", "--model", out.toString(), "--labels",
                model.resolve("labels.txt").toString(), "--preset", "cifar10", "--top", "1",
                fixtures.resolve("images/cifar10/truck3.png").toString()));
        assertThat(classify.exitCode()).as(classify.err()).isZero();
        assertThat(classify.out()).containsPattern("truck3\\.png +truck \\(");

        Captured badMethod = capture(() -> Main.execute("model", "quantize", "--model",
                model.resolve("model.onnx").toString(), "--calibration", fixtures.resolve("images/cifar10").toString(),
                "--method", "kmeans", "--out", out.toString()));
        assertThat(badMethod.exitCode()).isEqualTo(2);
        assertThat(badMethod.err()).contains("unknown calibration method 'kmeans'");
        Captured quantized = capture(() -> Main.execute("model", "quantize", "--model",
                fixtures.resolve("models/mobilenetv2-12-int8/model.onnx").toString(), "--calibration",
                fixtures.resolve("images/cifar10").toString(), "--out", dir.resolve("x.onnx").toString()));
        assertThat(quantized.exitCode()).isEqualTo(1);
        assertThat(quantized.err()).contains("cannot quantize").contains("com.microsoft");
    }

    @Test
    void classifyWritesJsonLinesAndReportsFilesItCannotRead() throws Exception {
        Path image = dir.resolve("a.jpg");
        Files.write(image, io.labelstream.image.SyntheticImages.jpeg(300, 200, 1));
        Path text = dir.resolve("notes.txt");
        Files.writeString(text, "not an image");
        Captured run = capture(() -> Main.execute("classify", "--model", TestModels.resnet18().toString(), "--json",
                "--top", "3", image.toString(), text.toString()));
        assertThat(run.exitCode()).isEqualTo(1);
        var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
        var lines = run.out().lines().map(l -> {
            try {
                return mapper.readTree(l);
            } catch (Exception e) {
                throw new AssertionError("not JSON: " + l, e);
            }
        }).toList();
        assertThat(lines).hasSize(2);
        assertThat(lines.get(0).get("labels")).hasSize(3);
        assertThat(lines.get(0).get("recipe").asText()).hasSize(16);
        assertThat(lines.get(1).get("error").get("reason").asText()).isEqualTo("UNSUPPORTED_FORMAT");
    }

    @Test
    @Timeout(value = 2, unit = TimeUnit.MINUTES) // were a broker started, run would run on it until stopped
    void runWithoutBootstrapServersStopsAtStartUpNamingTheSettingAndStartsNoBroker() {
        String model = TestModels.resnet18().toString();
        Logged<Captured> unset = LogCapture.run(() -> capture(() -> Main.execute("run", "--model", model,
                "-s", "ops.port=0", "-s", "state.dir=" + dir.resolve("state"))));
        assertThat(unset.result().exitCode()).as(unset.result().err()).isEqualTo(2);
        assertThat(unset.result().err()).startsWith("labelstream: No Kafka cluster given: set bootstrap.servers")
                .contains("--bootstrap-servers").contains("LABELSTREAM_BOOTSTRAP_SERVERS")
                .contains("--embedded-broker");
        assertThat(unset.result().out()).doesNotContain("labelstream running");
        // It stops before the model loads; a broker would start only after the model.
        assertThat(unset.lines()).noneMatch(l -> l.contains("Embedded Kafka") || l.contains("embedded")
                || l.contains("Model "));
        // A variable set to nothing (a missing ConfigMap key, say) is no cluster either.
        Logged<Captured> blank = LogCapture.run(() -> capture(() -> Main.execute("run", "--model",
                dir.resolve("nope.onnx").toString(), "-s", "bootstrap.servers= ")));
        assertThat(blank.result().exitCode()).isEqualTo(2);
        assertThat(blank.result().err()).contains("No Kafka cluster given: set bootstrap.servers")
                .doesNotContain("model.path");
        assertThat(blank.lines()).noneMatch(l -> l.contains("Embedded Kafka"));
    }

    @Test
    void runRefusesAnEmbeddedBrokerAndBootstrapServersTogether() throws Exception {
        String model = TestModels.resnet18().toString();
        Logged<Captured> flags = LogCapture.run(() -> capture(() -> Main.execute("run", "--embedded-broker",
                "--bootstrap-servers", "kafka:9092", "--model", model)));
        assertThat(flags.result().exitCode()).isEqualTo(2);
        assertThat(flags.result().err()).contains("labelstream: --embedded-broker and bootstrap.servers=kafka:9092 "
                + "(from the command line) both given").contains("drop --embedded-broker, or unset bootstrap.servers");
        assertThat(flags.lines()).noneMatch(l -> l.contains("Embedded Kafka") || l.contains("Model "));
        Path file = dir.resolve("ls.properties");
        Files.writeString(file, "bootstrap.servers=kafka:9092\n");
        Captured fromFile = capture(() -> Main.execute("run", "--config", file.toString(), "--embedded-broker",
                "--model", model));
        assertThat(fromFile.exitCode()).isEqualTo(2);
        assertThat(fromFile.err()).contains("--embedded-broker and bootstrap.servers=kafka:9092 (from the --config "
                + "file) both given");
    }

    @Test
    void aGpuProviderOnThisMachineStopsStartUpWithAClearMessage() {
        Captured run = capture(() -> Main.execute("run", "--bootstrap-servers", UNCONTACTED_CLUSTER,
                "--model", TestModels.resnet18().toString(), "-s", "model.provider=cuda:0"));
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("model.provider=cuda:0").contains("no CUDA execution provider")
                .contains("model.provider.fallback=cpu");
    }

    @Test
    void everyCommandsHelpShowsAnExample() {
        java.util.List<picocli.CommandLine> all = new java.util.ArrayList<>();
        java.util.Deque<picocli.CommandLine> todo = new java.util.ArrayDeque<>(java.util.List.of(
                new picocli.CommandLine(new Main())));
        while (!todo.isEmpty()) {
            picocli.CommandLine c = todo.pop();
            all.add(c);
            c.getSubcommands().values().stream().filter(s -> !s.getCommandName().equals("help")).forEach(todo::push);
        }
        assertThat(all).hasSizeGreaterThanOrEqualTo(13);
        for (picocli.CommandLine c : all) {
            assertThat(c.getUsageMessage()).as("labelstream %s --help", c.getCommandName()).contains("Example");
        }
    }


    private static Captured capture(java.util.function.IntSupplier body) {
        return ConsoleCapture.run(body);
    }
}
