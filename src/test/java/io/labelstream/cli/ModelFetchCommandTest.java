package io.labelstream.cli;

import io.labelstream.model.zoo.ModelZoo;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** 'model fetch' as a user types it: the list, and the exit codes and messages of what cannot be fetched. */
class ModelFetchCommandTest {

    @TempDir
    Path dir;

    @Test
    void listShowsEveryModelWithItsSizePrecisionAndWhereItComesFrom() {
        Captured run = ConsoleCapture.run(() -> Main.execute("model", "fetch", "--list", "--dir", dir.toString()));
        assertThat(run.exitCode()).as(run.err()).isZero();
        for (ModelZoo.Entry entry : ModelZoo.CATALOG) {
            assertThat(run.out()).containsPattern("(?m)^" + entry.name() + " +[0-9.]+ MB +"
                    + entry.precision().label().replace("(", "\\(").replace(")", "\\)") + " +"
                    + entry.model().fileName() + "$");
        }
        assertThat(run.out()).contains("resnet50         102.6 MB  fp32")
                .contains("resnet50-int8     25.8 MB  int8 (QLinear)")
                .contains("resnet50-qdq      25.8 MB  int8 (QDQ)")
                .contains("From: https://huggingface.co/onnxmodelzoo/legacy_models/resolve/main/<path>, e.g. "
                        + "https://huggingface.co/onnxmodelzoo/legacy_models/resolve/main/validated/vision/"
                        + "classification/resnet/model/resnet50-v1-7.onnx");
        Captured mirror = ConsoleCapture.run(() -> Main.execute("model", "fetch", "--list", "--base-url",
                "https://mirror.example/zoo/"));
        assertThat(mirror.out()).contains("From: https://mirror.example/zoo/<path>");
    }

    @Test
    void aMissingOrUnknownModelExits2AndAnUnreachableSourceExits1NamingTheUrl() throws Exception {
        Captured none = ConsoleCapture.run(() -> Main.execute("model", "fetch", "--dir", dir.toString()));
        assertThat(none.exitCode()).isEqualTo(2);
        assertThat(none.err()).contains("name a model to fetch (see 'labelstream model fetch --list')");
        Captured unknown = ConsoleCapture.run(() -> Main.execute("model", "fetch", "vgg16", "--dir", dir.toString()));
        assertThat(unknown.exitCode()).isEqualTo(2);
        assertThat(unknown.err()).contains("unknown model 'vgg16'; available: resnet50");
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        String base = "http://127.0.0.1:" + closedPort + "/";
        Captured offline = ConsoleCapture.run(() -> Main.execute("model", "fetch", "resnet18", "--dir", dir.toString(),
                "--base-url", base));
        assertThat(offline.exitCode()).isEqualTo(1);
        assertThat(offline.err()).contains("resnet18-v1-7.onnx: 46.8 MB from " + base + "validated/")
                .contains("labelstream: cannot download " + base
                        + "validated/vision/classification/resnet/model/resnet18-v1-7.onnx")
                .contains("The ImageNet class list is in " + dir.resolve("synset.txt") + " (--labels).");
        assertThat(dir.resolve("synset.txt")).as("written offline, for a model fetched elsewhere").isRegularFile();
        assertThat(dir.toFile().list()).containsExactly("synset.txt");
    }
}
