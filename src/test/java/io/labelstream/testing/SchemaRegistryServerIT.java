package io.labelstream.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The real Apicurio registry behind {@link SchemaRegistryServer}: its Confluent API, freeze/thaw, stop/restart. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class SchemaRegistryServerIT {

    private static final String V1 = "{\"type\":\"record\",\"name\":\"Probe\",\"namespace\":\"io.labelstream.test\","
            + "\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]}";
    private static final String V2_INCOMPATIBLE = "{\"type\":\"record\",\"name\":\"Probe\","
            + "\"namespace\":\"io.labelstream.test\",\"fields\":[{\"name\":\"x\",\"type\":\"string\"}]}";
    private static final String OTHER = "{\"type\":\"record\",\"name\":\"Other\",\"namespace\":\"io.labelstream.test\","
            + "\"fields\":[{\"name\":\"y\",\"type\":\"long\"}]}";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private SchemaRegistryServer registry;
    private int probeId;

    @BeforeAll
    void start() throws Exception {
        long t0 = System.nanoTime();
        registry = SchemaRegistryServer.start();
        System.out.printf("registry ready in %d ms, RSS %d MB, url %s%n", (System.nanoTime() - t0) / 1_000_000,
                rssKiB(registry.pid()) / 1024, registry.url());
    }

    @AfterAll
    void close() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    @Order(1)
    void registersAndServesSchemasById() throws Exception {
        probeId = registry.register("probe-value", V1);
        assertThat(registry.register("probe-value", V1)).isEqualTo(probeId);
        assertThat(registry.register("other-value", OTHER)).isNotEqualTo(probeId);

        HttpResponse<String> byId = get("/schemas/ids/" + probeId, Duration.ofSeconds(10));
        assertThat(byId.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(JSON.readTree(byId.body()).get("schema").asText())).isEqualTo(JSON.readTree(V1));

        HttpResponse<String> unknown = get("/schemas/ids/987654", Duration.ofSeconds(10));
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(unknown.body()).get("error_code").asInt()).isEqualTo(40403);
    }

    @Test
    @Order(2)
    void refusesAnIncompatibleSchemaWith409() throws Exception {
        registry.setCompatibility("probe-value", "BACKWARD");
        assertThatThrownBy(() -> registry.register("probe-value", V2_INCOMPATIBLE))
                .isInstanceOf(IOException.class).hasMessageContaining("HTTP 409").hasMessageContaining("\"error_code\":409");
    }

    @Test
    @Order(3)
    void lookupTellsAMissingSubjectFromAMissingSchema() throws Exception {
        HttpResponse<String> found = post("/subjects/probe-value", V1);
        assertThat(found.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(found.body()).get("id").asInt()).isEqualTo(probeId);

        HttpResponse<String> noSubject = post("/subjects/no-such-subject", V1);
        assertThat(noSubject.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(noSubject.body()).get("error_code").asInt()).isEqualTo(40401);

        HttpResponse<String> noSchema = post("/subjects/probe-value", OTHER);
        assertThat(noSchema.statusCode()).isEqualTo(404);
        assertThat(JSON.readTree(noSchema.body()).get("error_code").asInt()).isEqualTo(40403);
    }

    @Test
    @Order(4)
    void listensOnLoopbackOnly() throws Exception {
        List<String> listeners = listeningAddresses(registry.pid());
        System.out.println("registry listens on " + listeners);
        assertThat(listeners).hasSize(2).allSatisfy(address -> assertThat(address).startsWith("127.0.0.1:"));
        assertThat(listeners).contains("127.0.0.1:" + registry.port());
    }

    @Test
    @Order(5)
    void frozenRegistryAcceptsConnectionsButNeverAnswers() throws Exception {
        registry.freeze();
        try {
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", registry.port()), 2000);
            }
            assertThatThrownBy(() -> get("/subjects", Duration.ofMillis(1500)))
                    .isInstanceOf(HttpTimeoutException.class);
        } finally {
            registry.thaw();
        }
        assertThat(get("/subjects", Duration.ofSeconds(10)).statusCode()).isEqualTo(200);
    }

    @Test
    @Order(6)
    void restartKeepsSchemasAndIdsOnTheSamePort() throws Exception {
        int port = registry.port();
        registry.stop();
        assertThatThrownBy(() -> new Socket("127.0.0.1", port).close()).isInstanceOf(ConnectException.class);

        long t0 = System.nanoTime();
        registry.restart();
        System.out.printf("registry restarted in %d ms, RSS %d MB%n", (System.nanoTime() - t0) / 1_000_000,
                rssKiB(registry.pid()) / 1024);
        assertThat(registry.port()).isEqualTo(port);

        HttpResponse<String> byId = get("/schemas/ids/" + probeId, Duration.ofSeconds(10));
        assertThat(byId.statusCode()).isEqualTo(200);
        assertThat(JSON.readTree(JSON.readTree(byId.body()).get("schema").asText())).isEqualTo(JSON.readTree(V1));
        assertThat(registry.register("probe-value", V1)).isEqualTo(probeId);
        JsonNode config = JSON.readTree(get("/config/probe-value", Duration.ofSeconds(10)).body());
        assertThat(config.get("compatibilityLevel").asText()).isEqualTo("BACKWARD");
        // New ids continue after the old ones rather than reusing them.
        int fresh = registry.register("fresh-value", "{\"type\":\"record\",\"name\":\"Fresh\",\"fields\":[]}");
        assertThat(fresh).isGreaterThan(probeId);
    }

    private HttpResponse<String> get(String path, Duration timeout) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(registry.url() + path)).timeout(timeout).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(String path, String schema) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(java.util.Map.of("schema", schema));
        return http.send(HttpRequest.newBuilder(URI.create(registry.url() + path)).timeout(Duration.ofSeconds(10))
                        .header("Content-Type", SchemaRegistryServer.CONTENT_TYPE)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static long rssKiB(long pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    /** The process's listening TCP sockets as "a.b.c.d:port" (IPv4-mapped IPv6 written as IPv4), from /proc. */
    private static List<String> listeningAddresses(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : (Iterable<Path>) fds::iterator) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // fd closed meanwhile
                }
            }
        }
        List<String> listening = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            List<String> lines = Files.readAllLines(Path.of(table));
            for (String line : lines.subList(1, lines.size())) {
                String[] f = line.trim().split("\\s+");
                if ("0A".equals(f[3]) && inodes.contains(f[9])) {
                    listening.add(address(f[1]));
                }
            }
        }
        return listening;
    }

    private static String address(String hex) {
        String[] parts = hex.split(":");
        String ip = parts[0];
        int port = Integer.parseInt(parts[1], 16);
        if (ip.length() == 32) {
            if (!ip.startsWith("0000000000000000FFFF0000")) {
                return "[" + ip + "]:" + port;
            }
            ip = ip.substring(24);
        }
        // /proc writes each 32-bit word in host (little-endian) order.
        return Integer.parseInt(ip.substring(6, 8), 16) + "." + Integer.parseInt(ip.substring(4, 6), 16) + "."
                + Integer.parseInt(ip.substring(2, 4), 16) + "." + Integer.parseInt(ip.substring(0, 2), 16) + ":" + port;
    }
}
