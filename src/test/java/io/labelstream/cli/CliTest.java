package io.labelstream.cli;

import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;

import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class CliTest {

    @TempDir
    Path dir;

    @Test
    void aBadSettingStopsStartUpNamingTheSetting() {
        Captured run = capture(() -> Main.execute("run", "-s", "max.batch.size=zero"));
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("Invalid setting max.batch.size='zero'");
        Captured noModel = capture(() -> Main.execute("run"));
        assertThat(noModel.exitCode()).isEqualTo(2);
        assertThat(noModel.err()).contains("model.path is required");
        Captured missing = capture(() -> Main.execute("run", "--model", dir.resolve("nope.onnx").toString()));
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
    void aGpuProviderOnThisMachineStopsStartUpWithAClearMessage() {
        Captured run = capture(() -> Main.execute("run", "--model", TestModels.resnet18().toString(),
                "-s", "model.provider=cuda:0"));
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
