package io.labelstream.model.zoo;

import com.sun.net.httpserver.HttpServer;
import com.sun.net.httpserver.HttpsConfigurator;
import com.sun.net.httpserver.HttpsServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Which redirects 'model fetch' follows, over TLS as on Hugging Face: from an https hub to an https download
 * server on another port, yes; from https down to http, no, and the error says so. The certificate is made here
 * with the JDK's keytool and trusted by the test's client only.
 */
class ZooFetcherRedirectTest {

    private static final char[] PASSWORD = "changeit".toCharArray();
    private static final byte[] CONTENT = "pretend this is an ONNX model".getBytes(StandardCharsets.UTF_8);

    @TempDir
    Path dir;

    private final List<HttpServer> servers = new ArrayList<>();
    private final AtomicInteger downloadRequests = new AtomicInteger();

    @AfterEach
    void stop() {
        servers.forEach(s -> s.stop(0));
    }

    @Test
    void anHttpsRedirectToAnotherHttpsPortIsFollowed() throws Exception {
        SSLContext tls = selfSignedLoopbackContext();
        HttpServer download = serveContent(HttpsServer.create(loopback(), 0), tls);
        HttpServer hub = redirectTo(HttpsServer.create(loopback(), 0), tls, "https", download);
        Path file = fetcher(hub, tls).fetch(artifact(), b -> { });
        assertThat(Files.readAllBytes(file)).isEqualTo(CONTENT);
        assertThat(downloadRequests).hasValue(1);
    }

    @Test
    void anHttpsRedirectDownToHttpIsNotFollowedAndTheErrorSaysWhy() throws Exception {
        SSLContext tls = selfSignedLoopbackContext();
        HttpServer download = serveContent(HttpServer.create(loopback(), 0), tls);
        HttpServer hub = redirectTo(HttpsServer.create(loopback(), 0), tls, "http", download);
        assertThatThrownBy(() -> fetcher(hub, tls).fetch(artifact(), b -> { }))
                .hasMessageContaining("cannot download model.onnx: HTTP 302 from 127.0.0.1:" + port(hub))
                .hasMessageContaining("its redirect to http://127.0.0.1:" + port(download) + "/blobs/model.onnx was"
                        + " not followed")
                .hasMessageContaining("never from https to http");
        assertThat(downloadRequests).as("nothing asked of the http server").hasValue(0);
        assertThat(dir.resolve("cache/model.onnx")).doesNotExist();
    }

    private ZooFetcher fetcher(HttpServer hub, SSLContext tls) {
        return new ZooFetcher(URI.create("https://127.0.0.1:" + port(hub) + "/"), dir.resolve("cache"),
                HttpClient.newBuilder().sslContext(tls));
    }

    private static ModelZoo.Artifact artifact() throws Exception {
        return new ModelZoo.Artifact("m/model.onnx", CONTENT.length, ZooFetcherTest.sha256(CONTENT));
    }

    private HttpServer serveContent(HttpServer server, SSLContext tls) {
        server.createContext("/blobs/", exchange -> {
            downloadRequests.incrementAndGet();
            exchange.sendResponseHeaders(200, CONTENT.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(CONTENT);
            }
        });
        return start(server, tls);
    }

    private HttpServer redirectTo(HttpServer hub, SSLContext tls, String scheme, HttpServer target) {
        hub.createContext("/", exchange -> {
            exchange.getResponseHeaders().add("Location", scheme + "://127.0.0.1:" + port(target) + "/blobs/model.onnx");
            exchange.sendResponseHeaders(302, -1);
            exchange.close();
        });
        return start(hub, tls);
    }

    private HttpServer start(HttpServer server, SSLContext tls) {
        if (server instanceof HttpsServer https) {
            https.setHttpsConfigurator(new HttpsConfigurator(tls));
        }
        server.start();
        servers.add(server);
        return server;
    }

    private static InetSocketAddress loopback() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), 0);
    }

    private static int port(HttpServer server) {
        return server.getAddress().getPort();
    }

    /** A key pair for 127.0.0.1, made by keytool, serving as both the servers' key and the client's trust. */
    private SSLContext selfSignedLoopbackContext() throws Exception {
        Path store = dir.resolve("loopback.p12");
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-alias", "loopback", "-keyalg", "EC", "-groupname", "secp256r1", "-dname",
                "CN=127.0.0.1", "-ext", "SAN=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore",
                store.toString(), "-storepass", new String(PASSWORD)).redirectErrorStream(true).start();
        String output = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (keytool.waitFor() != 0) {
            throw new IOException("keytool failed: " + output);
        }
        KeyStore keys = KeyStore.getInstance(store.toFile(), PASSWORD);
        KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        keyManagers.init(keys, PASSWORD);
        TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trust.init(keys);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(keyManagers.getKeyManagers(), trust.getTrustManagers(), null);
        return context;
    }
}
