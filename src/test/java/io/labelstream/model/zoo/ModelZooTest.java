package io.labelstream.model.zoo;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The catalog 'model fetch' offers, where it looks for the files, and what it says offline. */
class ModelZooTest {

    @TempDir
    Path cache;

    @Test
    void theCatalogPinsEveryResNetOfTheZooV1AndV2() {
        assertThat(ModelZoo.entry("resnet50").model().sha256()).hasSize(64);
        assertThat(ModelZoo.entry("ResNet18").model().fileName()).isEqualTo("resnet18-v1-7.onnx");
        for (int depth : new int[] {18, 34, 50, 101, 152}) {
            for (String version : new String[] {"", "-v2"}) {
                ModelZoo.Entry entry = ModelZoo.entry("resnet" + depth + version);
                assertThat(entry.model().fileName()).isEqualTo("resnet" + depth + (version.isEmpty() ? "-v1" : "-v2")
                        + "-7.onnx");
                assertThat(entry.model().sha256()).matches("[0-9a-f]{64}");
                assertThat(entry.model().size()).isGreaterThan(40_000_000L);
                assertThat(entry.precision()).isEqualTo(ModelZoo.Precision.FP32);
            }
        }
        assertThat(ModelZoo.CATALOG).extracting(e -> e.model().sha256()).doesNotHaveDuplicates();
        assertThat(ModelZoo.CATALOG).extracting(ModelZoo.Entry::labels).containsOnly(ModelZoo.IMAGENET_CLASSES);
        assertThat(ModelZoo.CATALOG).allSatisfy(e -> assertThat(e.model().path())
                .startsWith("validated/vision/classification/resnet/model/"));
        assertThatThrownBy(() -> ModelZoo.entry("vgg")).hasMessageContaining("available: resnet50, resnet18, resnet18-v2");
    }

    @Test
    void theCatalogHasResNet50InInt8AsQLinearAndAsQdq() {
        assertThat(ModelZoo.entry("resnet50-int8").model().fileName()).isEqualTo("resnet50-v1-12-int8.onnx");
        assertThat(ModelZoo.entry("resnet50-int8").precision()).isEqualTo(ModelZoo.Precision.INT8_QLINEAR);
        assertThat(ModelZoo.entry("resnet50-qdq").model().fileName()).isEqualTo("resnet50-v1-12-qdq.onnx");
        assertThat(ModelZoo.entry("resnet50-qdq").precision()).isEqualTo(ModelZoo.Precision.INT8_QDQ);
        assertThat(ModelZoo.entry("resnet50-qdq").model().size()).isBetween(20_000_000L, 30_000_000L);
    }

    @Test
    void filesAreLookedForInTheHubsRepositoryAtThePinnedRevisionOrBelowAMirrorEndpoint() {
        assertThat(ModelZoo.defaultBase(null)).isEqualTo(
                URI.create("https://huggingface.co/onnxmodelzoo/legacy_models/resolve/main/"));
        assertThat(ModelZoo.defaultBase(" ")).isEqualTo(ModelZoo.defaultBase(null));
        assertThat(ModelZoo.defaultBase("https://hf-mirror.example/")).isEqualTo(
                URI.create("https://hf-mirror.example/onnxmodelzoo/legacy_models/resolve/main/"));
        ZooFetcher mirror = new ZooFetcher(URI.create("https://mirror.example/zoo"), cache);
        assertThat(mirror.source(ModelZoo.entry("resnet50").model())).isEqualTo(URI.create(
                "https://mirror.example/zoo/validated/vision/classification/resnet/model/resnet50-v1-7.onnx"));
    }

    @Test
    void offlineFailsWithAClearMessage() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ZooFetcher zoo = new ZooFetcher(URI.create("http://127.0.0.1:" + closedPort + "/"), cache);
        assertThatThrownBy(() -> zoo.fetch(ModelZoo.entry("resnet50").model(), b -> { }))
                .hasMessageContaining("cannot download http://127.0.0.1:" + closedPort
                        + "/validated/vision/classification/resnet/model/resnet50-v1-7.onnx")
                .hasMessageContaining("offline machine");
    }
}
