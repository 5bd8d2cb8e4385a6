package io.labelstream.model;

import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** 'model fetch' against a loopback server started here: nothing leaves the machine. */
class ModelZooTest {

    @TempDir
    Path cache;

    private HttpServer server;
    private final AtomicInteger requests = new AtomicInteger();
    private final byte[] content = "pretend this is an ONNX model".getBytes(StandardCharsets.UTF_8);

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/zoo/", exchange -> {
            requests.incrementAndGet();
            byte[] body = exchange.getRequestURI().getPath().endsWith("tampered.onnx")
                    ? "something else entirely".getBytes(StandardCharsets.UTF_8) : content;
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/moved/", exchange -> {
            exchange.getResponseHeaders().add("Location", "/zoo/m/model.onnx");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private URI base() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
    }

    @Test
    void downloadsVerifiesAndThenServesFromTheCache() throws Exception {
        ModelZoo zoo = new ModelZoo(base(), cache);
        ModelZoo.Artifact artifact = new ModelZoo.Artifact("zoo/m/model.onnx", content.length, sha256(content));
        Path file = zoo.fetch(artifact, bytes -> { });
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
        assertThat(zoo.fetch(artifact, bytes -> { })).isEqualTo(file);
        assertThat(requests.get()).as("second fetch used the verified cached file").isEqualTo(1);
    }

    @Test
    void followsRedirects() throws Exception {
        ModelZoo zoo = new ModelZoo(base(), cache);
        Path file = zoo.fetch(new ModelZoo.Artifact("moved/model.onnx", content.length, sha256(content)), b -> { });
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
    }

    @Test
    void aFileThatDoesNotMatchItsPinnedDigestIsRefusedAndNotKept() throws Exception {
        ModelZoo zoo = new ModelZoo(base(), cache);
        ModelZoo.Artifact artifact = new ModelZoo.Artifact("zoo/m/tampered.onnx", content.length, sha256(content));
        assertThatThrownBy(() -> zoo.fetch(artifact, b -> { })).hasMessageContaining("does not match its pinned digest")
                .hasMessageContaining("nothing was kept");
        assertThat(cache.toFile().list()).isEmpty();
    }

    @Test
    void offlineFailsWithAClearMessage() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ModelZoo zoo = new ModelZoo(URI.create("http://127.0.0.1:" + closedPort + "/"), cache);
        assertThatThrownBy(() -> zoo.fetch(ModelZoo.entry("resnet50").model(), b -> { }))
                .hasMessageContaining("cannot download http://127.0.0.1:" + closedPort
                        + "/validated/vision/classification/resnet/model/resnet50-v1-7.onnx")
                .hasMessageContaining("offline machine");
    }

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
            }
        }
        assertThat(ModelZoo.CATALOG).extracting(e -> e.model().sha256()).doesNotHaveDuplicates();
        assertThatThrownBy(() -> ModelZoo.entry("vgg")).hasMessageContaining("available: resnet50, resnet18, resnet18-v2");
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
