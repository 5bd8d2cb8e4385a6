package io.labelstream.model.zoo;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * 'model fetch' against two loopback servers that answer as Hugging Face does: the hub answers a
 * {@code resolve/<revision>/<path>} URL with a 302 to a content server on another port (Hugging Face's CDN),
 * which serves the bytes and honours {@code Range}. Nothing leaves the machine; digests are pinned here, by the
 * artifacts the tests pass in.
 */
class ZooFetcherTest {

    private static final String PATH = "validated/vision/classification/resnet/model/tiny-v1-7.onnx";
    private static final Pattern RANGE = Pattern.compile("bytes=(\\d+)-");

    @TempDir
    Path cache;

    private final byte[] content = new byte[300_000];
    private final Map<String, byte[]> served = new ConcurrentHashMap<>();
    private final List<String> hubRequests = new CopyOnWriteArrayList<>();
    private final List<String> cdnRanges = new CopyOnWriteArrayList<>();
    /** Responses the CDN cuts off halfway, closing the connection. */
    private final AtomicInteger responsesToDrop = new AtomicInteger();
    private final AtomicBoolean ignoreRanges = new AtomicBoolean();
    private final AtomicInteger cdnStatus = new AtomicInteger(200);
    private HttpServer hub;
    private HttpServer cdn;

    @BeforeEach
    void serve() throws IOException {
        new Random(7).nextBytes(content);
        served.put(PATH, content);
        cdn = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        cdn.createContext("/blobs/", this::serveBlob);
        cdn.start();
        hub = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        hub.createContext("/", exchange -> {
            String path = exchange.getRequestURI().getPath();
            hubRequests.add(path);
            String prefix = "/" + ModelZoo.REPOSITORY + "/resolve/" + ModelZoo.REVISION + "/";
            if (!path.startsWith(prefix) || !served.containsKey(path.substring(prefix.length()))) {
                exchange.sendResponseHeaders(404, -1);
            } else {
                exchange.getResponseHeaders().add("Location",
                        "http://127.0.0.1:" + cdn.getAddress().getPort() + "/blobs/" + path.substring(prefix.length()));
                exchange.sendResponseHeaders(302, -1);
            }
            exchange.close();
        });
        hub.start();
    }

    private void serveBlob(HttpExchange exchange) throws IOException {
        byte[] body = served.get(exchange.getRequestURI().getPath().substring("/blobs/".length()));
        String range = exchange.getRequestHeaders().getFirst("Range");
        cdnRanges.add(range == null ? "" : range);
        if (cdnStatus.get() != 200) {
            exchange.sendResponseHeaders(cdnStatus.get(), -1);
            exchange.close();
            return;
        }
        Matcher from = RANGE.matcher(range == null || ignoreRanges.get() ? "" : range);
        int start = from.matches() ? Integer.parseInt(from.group(1)) : 0;
        if (start > 0) {
            exchange.getResponseHeaders().add("Content-Range",
                    "bytes " + start + "-" + (body.length - 1) + "/" + body.length);
        }
        exchange.sendResponseHeaders(start > 0 ? 206 : 200, body.length - start);
        OutputStream out = exchange.getResponseBody();
        if (responsesToDrop.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            out.write(body, start, (body.length - start) / 2);
            out.flush();
            exchange.close(); // fewer bytes than announced: the server closes the connection
            return;
        }
        out.write(body, start, body.length - start);
        out.close();
    }

    @AfterEach
    void stop() {
        hub.stop(0);
        cdn.stop(0);
    }

    private ZooFetcher zoo() {
        return new ZooFetcher(ModelZoo.defaultBase("http://127.0.0.1:" + hub.getAddress().getPort()), cache);
    }

    private ModelZoo.Artifact pinned(byte[] bytes) throws Exception {
        return new ModelZoo.Artifact(PATH, bytes.length, sha256(bytes));
    }

    @Test
    void followsTheHubsRedirectToAnotherPortVerifiesAndThenServesFromTheCache() throws Exception {
        ModelZoo.Artifact artifact = pinned(content);
        List<Long> progress = new CopyOnWriteArrayList<>();
        Path file = zoo().fetch(artifact, progress::add);
        assertThat(file).isEqualTo(cache.resolve("tiny-v1-7.onnx"));
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
        assertThat(hubRequests).containsExactly("/onnxmodelzoo/legacy_models/resolve/main/" + PATH);
        assertThat(cdnRanges).as("one full GET on the CDN").containsExactly("");
        assertThat(progress).isSorted().last().isEqualTo((long) content.length);
        assertThat(zoo().fetch(artifact, progress::add)).isEqualTo(file);
        assertThat(hubRequests).as("the second fetch used the verified cached file").hasSize(1);
        assertThat(cache.toFile().list()).containsExactly("tiny-v1-7.onnx");
    }

    @Test
    void aFileWithAnotherDigestIsRefusedAndDeletedNamingTheFileAndBothDigests() throws Exception {
        byte[] other = "something else entirely".getBytes(StandardCharsets.UTF_8);
        served.put(PATH, other);
        ModelZoo.Artifact artifact = new ModelZoo.Artifact(PATH, other.length, sha256(content));
        assertThatThrownBy(() -> zoo().fetch(artifact, b -> { }))
                .hasMessageContaining("tiny-v1-7.onnx from http://127.0.0.1:" + hub.getAddress().getPort())
                .hasMessageContaining("does not match its pinned digest")
                .hasMessageContaining("SHA-256 " + sha256(other))
                .hasMessageContaining("expected " + other.length + " bytes with SHA-256 " + sha256(content))
                .hasMessageContaining("the download was deleted, nothing was kept");
        assertThat(cache.toFile().list()).isEmpty();
    }

    @Test
    void aLongerFileIsRefusedWithoutReadingItAll() throws Exception {
        byte[] longer = Arrays.copyOf(content, content.length * 4);
        served.put(PATH, longer);
        assertThatThrownBy(() -> zoo().fetch(pinned(content), b -> { }))
                .hasMessageContaining("got more than " + content.length + " bytes");
        assertThat(cache.toFile().list()).isEmpty();
    }

    @Test
    void aConnectionDroppedMidwayIsContinuedFromWhereItStoppedAndEndsVerified() throws Exception {
        responsesToDrop.set(1);
        Path file = zoo().fetch(pinned(content), b -> { });
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
        // The CDN sends half and closes; how much of that half reaches the client before the close depends on the
        // transport, so the second request must start past 0 and no later than what was sent, not at one offset.
        assertThat(cdnRanges).as("a full GET cut off halfway, then the rest asked for through the hub's redirect")
                .hasSize(2).first().isEqualTo("");
        Matcher resumed = RANGE.matcher(cdnRanges.get(1));
        assertThat(resumed.matches()).as(cdnRanges.get(1)).isTrue();
        assertThat(Integer.parseInt(resumed.group(1))).isPositive().isLessThanOrEqualTo(content.length / 2);
        assertThat(hubRequests).hasSize(2);
        assertThat(cache.toFile().list()).containsExactly("tiny-v1-7.onnx");
    }

    @Test
    void aDownloadThatKeepsBreakingOffIsKeptAndTheNextFetchContinuesIt() throws Exception {
        responsesToDrop.set(ZooFetcher.ATTEMPTS);
        ModelZoo.Artifact artifact = pinned(content);
        Path part = zoo().partLocation(artifact);
        assertThatThrownBy(() -> zoo().fetch(artifact, b -> { }))
                .hasMessageContaining("the download of tiny-v1-7.onnx from 127.0.0.1:" + cdn.getAddress().getPort()
                        + " broke off after")
                .hasMessageContaining("tried " + ZooFetcher.ATTEMPTS + " times")
                .hasMessageContaining("kept in " + part + ", and the next 'model fetch' continues from there");
        long kept = Files.size(part);
        assertThat(kept).isBetween(content.length / 2L, content.length - 1L);
        assertThat(cache.resolve("tiny-v1-7.onnx")).doesNotExist();

        Path file = zoo().fetch(artifact, b -> { });
        assertThat(Files.readAllBytes(file)).isEqualTo(content);
        assertThat(cdnRanges).last().isEqualTo("bytes=" + kept + "-");
        assertThat(part).doesNotExist();
    }

    @Test
    void aPartFileThatDoesNotVerifyIsDeletedAndTheNextFetchStartsAfresh() throws Exception {
        ModelZoo.Artifact artifact = pinned(content);
        Files.write(zoo().partLocation(artifact), new byte[1000]); // zeros, not the file's first bytes
        assertThatThrownBy(() -> zoo().fetch(artifact, b -> { })).hasMessageContaining("does not match");
        assertThat(cdnRanges).containsExactly("bytes=1000-");
        assertThat(cache.toFile().list()).isEmpty();

        assertThat(Files.readAllBytes(zoo().fetch(artifact, b -> { }))).isEqualTo(content);
        assertThat(cdnRanges).last().isEqualTo("");
    }

    @Test
    void aServerThatIgnoresRangesIsReadFromTheStart() throws Exception {
        ModelZoo.Artifact artifact = pinned(content);
        Files.write(zoo().partLocation(artifact), new byte[1000]);
        ignoreRanges.set(true);
        assertThat(Files.readAllBytes(zoo().fetch(artifact, b -> { }))).isEqualTo(content);
        assertThat(cdnRanges).containsExactly("bytes=1000-");
    }

    @Test
    void anHttpErrorNamesTheStatusTheHostThatGaveItAndTheFile() throws Exception {
        cdnStatus.set(403);
        assertThatThrownBy(() -> zoo().fetch(pinned(content), b -> { }))
                .hasMessageContaining("cannot download tiny-v1-7.onnx: HTTP 403 from 127.0.0.1:"
                        + cdn.getAddress().getPort());
        ModelZoo.Artifact missing = new ModelZoo.Artifact(PATH.replace("tiny", "absent"), 10, sha256(content));
        assertThatThrownBy(() -> zoo().fetch(missing, b -> { }))
                .hasMessageContaining("cannot download absent-v1-7.onnx: HTTP 404 from 127.0.0.1:"
                        + hub.getAddress().getPort());
        assertThat(cdnRanges).as("an HTTP error is not retried").hasSize(1);
    }

    @Test
    void theClassListComesWithLabelstreamVerified() throws Exception {
        Path labels = zoo().installClassList(ModelZoo.IMAGENET_CLASSES);
        assertThat(labels).isEqualTo(cache.resolve("synset.txt"));
        assertThat(sha256(Files.readAllBytes(labels))).isEqualTo(ModelZoo.IMAGENET_CLASSES.sha256());
        assertThat(Files.readAllLines(labels)).hasSize(1000).startsWith("n01440764 tench, Tinca tinca");
        assertThat(hubRequests).as("no network").isEmpty();
    }

    static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
