package io.labelstream.image;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageReference;
import io.labelstream.testing.S3Server;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.ServerSocket;
import java.net.Socket;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * s3:// references through the AWS SDK against a real S3 API server (s3proxy): what is read, and every way a
 * reference fails, each with its reason and S3's own error code.
 */
@Timeout(value = 3, unit = TimeUnit.MINUTES)
class S3ReferencesIT {

    private static final int TIMEOUT_MS = 30_000;
    private static S3Server s3;
    private static final byte[] PHOTO = SyntheticImages.jpeg(320, 240, 7);

    @BeforeAll
    static void startS3() throws Exception {
        s3 = S3Server.start().bucket("photos").bucket("other")
                .put("photos", "2026/a b.jpg", PHOTO)
                .put("photos", "2026-private/c.jpg", PHOTO)
                .put("other", "x.jpg", PHOTO)
                .put("photos", "2026/big.jpg", SyntheticImages.jpeg(1600, 1200, 3));
    }

    @AfterAll
    static void stopS3() throws Exception {
        s3.close();
    }

    private static ReferenceFetcher fetcher(S3Store.Settings settings, long maxBytes, String... areas) throws Exception {
        return fetcher(TIMEOUT_MS, settings, maxBytes, areas);
    }

    private static ReferenceFetcher fetcher(int timeoutMs, S3Store.Settings settings, long maxBytes, String... areas)
            throws Exception {
        List<S3Location> allowed = new ArrayList<>();
        for (String area : areas) {
            allowed.add(FetchSettings.s3Areas(LabelstreamConfig.of(Map.of(Settings.FETCH_S3_BUCKETS.key(), area)))
                    .get(0));
        }
        // A generous limit for reads that should succeed (a busy, slower machine); the silent server test alone
        // relies on hitting the limit, and sets a short one in its own settings.
        return new ReferenceFetcher(new ReferenceFetcher.Policy(List.of(), Set.of(), timeoutMs, maxBytes, 2, allowed,
                settings));
    }

    private static ImageReference ref(String uri, Long size, String sha256) {
        return new ImageReference(uri, null, size, sha256);
    }

    private static ReferenceFetcher.Refused refused(ReferenceFetcher.Result result) {
        assertThat(result).isInstanceOf(ReferenceFetcher.Refused.class);
        return (ReferenceFetcher.Refused) result;
    }

    @Test
    void anObjectInAnAllowedPrefixIsReadWithItsDeclaredSizeAndDigestChecked() throws Exception {
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(PHOTO));
        try (ReferenceFetcher f = fetcher(s3.settings(), 1 << 20, "photos/2026")) {
            var result = f.fetch(ref("s3://photos/2026/a b.jpg", (long) PHOTO.length, sha));
            assertThat(result).isInstanceOf(ReferenceFetcher.Fetched.class);
            assertThat(((ReferenceFetcher.Fetched) result).bytes()).isEqualTo(PHOTO);

            var wrongDigest = refused(f.fetch(ref("s3://photos/2026/a b.jpg", null, "00" + sha.substring(2))));
            assertThat(wrongDigest.reason()).isEqualTo(FailureReason.FETCH_FAILED);
            assertThat(wrongDigest.message()).contains("has SHA-256 " + sha);

            var wrongSize = refused(f.fetch(ref("s3://photos/2026/a b.jpg", 12L, null)));
            assertThat(wrongSize.message()).contains("has " + PHOTO.length + " bytes; the event says 12");
        }
    }

    @Test
    void aMissingKeyOrWrongCredentialsFailWithS3sErrorCode() throws Exception {
        try (ReferenceFetcher f = fetcher(s3.settings(), 1 << 20, "photos")) {
            var missing = refused(f.fetch(ref("s3://photos/2026/nope.jpg", null, null)));
            assertThat(missing.reason()).isEqualTo(FailureReason.FETCH_FAILED);
            assertThat(missing.message()).contains("s3://photos/2026/nope.jpg").contains("S3 error NoSuchKey")
                    .contains("HTTP 404");
        }
        try (ReferenceFetcher f = fetcher(s3.settings(S3Server.ACCESS_KEY, "not-the-secret", Duration.ofSeconds(30)),
                1 << 20, "photos")) {
            var denied = refused(f.fetch(ref("s3://photos/2026/a b.jpg", null, null)));
            assertThat(denied.reason()).isEqualTo(FailureReason.FETCH_FAILED);
            assertThat(denied.message()).contains("S3 error ").containsPattern(
                    "SignatureDoesNotMatch|AccessDenied|InvalidAccessKeyId").contains("HTTP 403");
        }
    }

    @Test
    void anObjectLargerThanTheCapIsTooLarge() throws Exception {
        try (ReferenceFetcher f = fetcher(s3.settings(), 50_000, "photos")) {
            var big = refused(f.fetch(ref("s3://photos/2026/big.jpg", null, null)));
            assertThat(big.reason()).isEqualTo(FailureReason.TOO_LARGE);
            assertThat(big.message()).contains("s3://photos/2026/big.jpg").contains("image.max.bytes");
        }
    }

    /**
     * The hanging fetch's limit. The client's first request also pays the AWS SDK's one-time set-up (signer,
     * endpoint rules, HTTP client): on a slow host a limit of two seconds could run out before it connected, and
     * the test would fail on "no connection" although the fetch behaved.
     */
    private static final int HANG_LIMIT_MS = 10_000;

    /** A server that counts connections and answers none: refusals must not reach it; a fetch must give up on it. */
    @Test
    void refusedReferencesMakeNoRequestAndAHangingServerFailsWithinTheTimeLimit() throws Exception {
        AtomicInteger connections = new AtomicInteger();
        List<Socket> held = new ArrayList<>();
        try (ServerSocket silent = new ServerSocket(0)) {
            Thread acceptor = new Thread(() -> {
                while (!silent.isClosed()) {
                    try {
                        held.add(silent.accept());
                        connections.incrementAndGet();
                    } catch (java.io.IOException e) {
                        return;
                    }
                }
            });
            acceptor.setDaemon(true);
            acceptor.start();
            S3Store.Settings hanging = new S3Store.Settings("us-east-1",
                    java.net.URI.create("http://127.0.0.1:" + silent.getLocalPort()), true,
                    s3.settings().credentials(), Duration.ofMillis(HANG_LIMIT_MS));
            try (ReferenceFetcher f = fetcher(HANG_LIMIT_MS, hanging, 1 << 20, "photos/2026")) {
                for (String uri : List.of("s3://other/x.jpg", "s3://photos/2026-private/c.jpg", "s3://photos/x.jpg",
                        "s3://photos/2026/", "s3://Bad_Bucket/x.jpg")) {
                    var r = refused(f.fetch(ref(uri, null, null)));
                    assertThat(r.reason()).as(uri).isEqualTo(FailureReason.REFERENCE_REFUSED);
                }
                assertThat(connections.get()).as("no request for a refused reference").isZero();

                var hung = refused(f.fetchAsync(ref("s3://photos/2026/a b.jpg", null, null)).get(60, TimeUnit.SECONDS));
                assertThat(hung.reason()).isEqualTo(FailureReason.FETCH_FAILED);
                assertThat(hung.message()).contains("s3://photos/2026/a b.jpg").contains(HANG_LIMIT_MS + " ms (fetch.timeout.ms)");
                assertThat(connections.get()).isPositive();
            }
        } finally {
            for (Socket s : held) {
                s.close();
            }
        }
    }

    /**
     * s3proxy never throttles, so a server that answers every request as S3 does when it throttles (503 SlowDown,
     * S3's XML error body): the SDK retries, then the image fails with the code and the attempts.
     */
    @Test
    void throttlingAfterTheSdksRetriesFailsWithSlowDown() throws Exception {
        AtomicInteger requests = new AtomicInteger();
        var server = com.sun.net.httpserver.HttpServer.create(new java.net.InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            requests.incrementAndGet();
            byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code><Message>Please"
                    + " reduce your request rate.</Message><RequestId>r1</RequestId></Error>")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            exchange.sendResponseHeaders(503, body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        server.start();
        try {
            S3Store.Settings throttling = new S3Store.Settings("us-east-1",
                    java.net.URI.create("http://127.0.0.1:" + server.getAddress().getPort()), true,
                    s3.settings().credentials(), Duration.ofSeconds(30));
            try (ReferenceFetcher f = new ReferenceFetcher(new ReferenceFetcher.Policy(List.of(), Set.of(), 30_000,
                    1 << 20, 1, List.of(new S3Location("photos", "")), throttling))) {
                var slow = refused(f.fetch(ref("s3://photos/2026/a b.jpg", null, null)));
                assertThat(slow.reason()).isEqualTo(FailureReason.FETCH_FAILED);
                assertThat(slow.message()).contains("S3 error SlowDown (HTTP 503) after " + requests.get()
                        + " attempts").contains("reduce your request rate");
                assertThat(requests.get()).as("the SDK retried").isGreaterThan(1);
            }
        } finally {
            server.stop(0);
        }
    }

    @Test
    void withoutAllowedBucketsS3ReferencesAreRefused() throws Exception {
        try (ReferenceFetcher f = new ReferenceFetcher(new ReferenceFetcher.Policy(List.of(), Set.of("example.com"),
                2000, 1 << 20, 1))) {
            var r = refused(f.fetch(ref("s3://photos/2026/a b.jpg", null, null)));
            assertThat(r.reason()).isEqualTo(FailureReason.REFERENCE_REFUSED);
            assertThat(r.message()).contains("fetch.s3.buckets is empty");
        }
    }

    @Test
    void badS3SettingsStopStartUpNamingTheSetting() {
        assertThatThrownBy(() -> FetchSettings.s3Areas(LabelstreamConfig.of(Map.of(
                Settings.FETCH_S3_BUCKETS.key(), "photos,UPPER/x"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fetch.s3.buckets")
                .hasMessageContaining("'UPPER' in s3://UPPER/x is not a valid S3 bucket name");
        assertThatThrownBy(() -> FetchSettings.s3(LabelstreamConfig.of(Map.of(
                Settings.FETCH_S3_ENDPOINT.key(), "minio:9000"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("fetch.s3.endpoint")
                .hasMessageContaining("http://minio:9000");
        assertThat(FetchSettings.s3Areas(LabelstreamConfig.of(Map.of(Settings.FETCH_S3_BUCKETS.key(),
                " photos , archive/2026/ ,logs/a"))))
                .containsExactly(new S3Location("photos", ""), new S3Location("archive", "2026/"),
                        new S3Location("logs", "a/"));
    }
}
