package io.labelstream.image;

import com.sun.net.httpserver.HttpServer;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

/** Claim-check fetching under its policy, against temporary folders and loopback servers started here. */
class ReferenceFetcherTest {

    @TempDir
    Path dir;

    private HttpServer server;
    private final AtomicInteger hits = new AtomicInteger();
    private final CountDownLatch never = new CountDownLatch(1);
    private final byte[] jpeg = SyntheticImages.jpeg(64, 48, 1);

    @BeforeEach
    void serve() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(java.util.concurrent.Executors.newCachedThreadPool());
        server.createContext("/img.jpg", ex -> {
            hits.incrementAndGet();
            ex.sendResponseHeaders(200, jpeg.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(jpeg);
            }
        });
        server.createContext("/to-allowed", ex -> redirect(ex, "/img.jpg"));
        server.createContext("/to-elsewhere", ex -> redirect(ex, "http://elsewhere.invalid/img.jpg"));
        server.createContext("/missing", ex -> {
            ex.sendResponseHeaders(404, -1);
            ex.close();
        });
        server.createContext("/silent", ex -> {
            try {
                never.await(); // accepts the connection, never answers
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close(); // let go at last: the connection ends without an answer
        });
        server.createContext("/huge", ex -> {
            ex.sendResponseHeaders(200, 0); // chunked, no declared length: the cap applies while reading
            try (OutputStream out = ex.getResponseBody()) {
                byte[] block = new byte[64 * 1024];
                for (int i = 0; i < 64; i++) {
                    out.write(block);
                }
            } catch (IOException ignored) {
                // the client hangs up once it has seen enough
            }
        });
        server.start();
    }

    private static void redirect(com.sun.net.httpserver.HttpExchange ex, String location) throws IOException {
        ex.getResponseHeaders().add("Location", location);
        ex.sendResponseHeaders(302, -1);
        ex.close();
    }

    @AfterEach
    void stop() {
        never.countDown();
        server.stop(0);
    }

    private String http(String path) {
        return "http://127.0.0.1:" + server.getAddress().getPort() + path;
    }

    /** Room for a slow host's first connection: only the silent server's test needs a short limit. */
    private ReferenceFetcher fetcher(List<Path> roots, Set<String> hosts, long maxBytes) throws IOException {
        return fetcher(roots, hosts, maxBytes, 30_000);
    }

    private ReferenceFetcher fetcher(List<Path> roots, Set<String> hosts, long maxBytes, int timeoutMs)
            throws IOException {
        return new ReferenceFetcher(new ReferenceFetcher.Policy(roots, hosts, timeoutMs, maxBytes, 4));
    }

    private static ImageReference ref(String uri) {
        return new ImageReference(uri, null, null, null);
    }

    private static FailureReason reason(ReferenceFetcher.Result r) {
        return r instanceof ReferenceFetcher.Refused refused ? refused.reason() : null;
    }

    @Test
    void filesAreReadOnlyInsideTheRootsWithoutDotDotOrSymlinkEscapes() throws Exception {
        Path root = Files.createDirectories(dir.resolve("root"));
        Path outside = Files.createDirectories(dir.resolve("outside"));
        Files.write(root.resolve("a.jpg"), jpeg);
        Files.write(outside.resolve("secret.jpg"), jpeg);
        Files.createSymbolicLink(root.resolve("link.jpg"), outside.resolve("secret.jpg"));
        Files.write(root.resolve("big.jpg"), new byte[5000]);
        try (ReferenceFetcher f = fetcher(List.of(root), Set.of(), 4096)) {
            assertThat(f.fetch(ref(root.resolve("a.jpg").toUri().toString())))
                    .isInstanceOfSatisfying(ReferenceFetcher.Fetched.class, x -> assertThat(x.bytes()).isEqualTo(jpeg));
            assertThat(reason(f.fetch(ref("file://" + root + "/../outside/secret.jpg"))))
                    .isEqualTo(FailureReason.REFERENCE_REFUSED);
            assertThat(reason(f.fetch(ref(root.resolve("link.jpg").toUri().toString()))))
                    .isEqualTo(FailureReason.REFERENCE_REFUSED);
            assertThat(reason(f.fetch(ref(outside.resolve("secret.jpg").toUri().toString()))))
                    .isEqualTo(FailureReason.REFERENCE_REFUSED);
            assertThat(reason(f.fetch(ref(root.resolve("nope.jpg").toUri().toString()))))
                    .isEqualTo(FailureReason.FETCH_FAILED);
            assertThat(reason(f.fetch(ref(root.resolve("big.jpg").toUri().toString()))))
                    .isEqualTo(FailureReason.TOO_LARGE);
            assertThat(reason(f.fetch(ref(http("/img.jpg"))))).as("no hosts allowed")
                    .isEqualTo(FailureReason.REFERENCE_REFUSED);
            assertThat(reason(f.fetch(ref("ftp://127.0.0.1/x.jpg")))).isEqualTo(FailureReason.REFERENCE_REFUSED);
        }
    }

    @Test
    void httpGoesOnlyToAllowedHostsCheckedBeforeConnecting() throws Exception {
        String allowed = "127.0.0.1:" + server.getAddress().getPort();
        try (ReferenceFetcher f = fetcher(List.of(), Set.of(allowed), 1 << 20)) {
            assertThat(f.fetch(ref(http("/img.jpg")))).isInstanceOf(ReferenceFetcher.Fetched.class);
            assertThat(f.fetch(ref(http("/to-allowed")))).isInstanceOf(ReferenceFetcher.Fetched.class);
            int before = hits.get();
            assertThat(reason(f.fetch(ref("http://localhost:" + server.getAddress().getPort() + "/img.jpg"))))
                    .as("a different host name for the same server").isEqualTo(FailureReason.REFERENCE_REFUSED);
            assertThat(hits.get()).as("refused before any connection").isEqualTo(before);
            assertThat(f.fetch(ref(http("/to-elsewhere")))).isInstanceOfSatisfying(ReferenceFetcher.Refused.class, r -> {
                assertThat(r.reason()).isEqualTo(FailureReason.REFERENCE_REFUSED);
                assertThat(r.message()).contains("redirects to").contains("elsewhere.invalid");
            });
            assertThat(reason(f.fetch(ref(http("/missing"))))).isEqualTo(FailureReason.FETCH_FAILED);
            assertThat(reason(f.fetch(ref(http("/huge"))))).isEqualTo(FailureReason.TOO_LARGE);
        }
        // The server never answers: only the fetch's own limit can end this.
        try (ReferenceFetcher f = fetcher(List.of(), Set.of(allowed), 1 << 20, 1500)) {
            assertThat(f.fetch(ref(http("/silent")))).isInstanceOfSatisfying(ReferenceFetcher.Refused.class, r -> {
                assertThat(r.reason()).isEqualTo(FailureReason.FETCH_FAILED);
                assertThat(r.message()).contains("did not answer within 1500 ms (fetch.timeout.ms)");
            });
        }
    }

    @Test
    void declaredSizeAndDigestAreChecked() throws Exception {
        String allowed = "127.0.0.1:" + server.getAddress().getPort();
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(jpeg));
        try (ReferenceFetcher f = fetcher(List.of(), Set.of(allowed), 1 << 20)) {
            assertThat(f.fetch(new ImageReference(http("/img.jpg"), null, (long) jpeg.length, sha)))
                    .isInstanceOf(ReferenceFetcher.Fetched.class);
            assertThat(reason(f.fetch(new ImageReference(http("/img.jpg"), null, null, "00" + sha.substring(2)))))
                    .isEqualTo(FailureReason.FETCH_FAILED);
            assertThat(reason(f.fetch(new ImageReference(http("/img.jpg"), null, 12L, null))))
                    .isEqualTo(FailureReason.FETCH_FAILED);
        }
    }

    @Test
    void referencesAreFetchedConcurrentlyAndAHangingOneHoldsUpNoOther() throws Exception {
        String allowed = "127.0.0.1:" + server.getAddress().getPort();
        // A time limit far beyond the test: the silent fetches can only end when the server lets them go.
        try (ReferenceFetcher f = new ReferenceFetcher(new ReferenceFetcher.Policy(List.of(), Set.of(allowed),
                600_000, 1 << 20, 4))) {
            var silent = List.of(f.fetchAsync(ref(http("/silent"))), f.fetchAsync(ref(http("/silent"))),
                    f.fetchAsync(ref(http("/silent"))));
            var image = f.fetchAsync(ref(http("/img.jpg")));
            assertThat(image.get(60, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(ReferenceFetcher.Fetched.class);
            assertThat(silent).noneMatch(java.util.concurrent.Future::isDone);
            never.countDown(); // the server closes the silent exchanges without an answer
            for (var s : silent) {
                assertThat(reason(s.get(60, java.util.concurrent.TimeUnit.SECONDS))).isEqualTo(FailureReason.FETCH_FAILED);
            }
        }
    }
}
