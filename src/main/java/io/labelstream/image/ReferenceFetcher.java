package io.labelstream.image;

import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageReference;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Fetches images that events carry by reference (claim check), under a policy checked before any file is opened
 * or connection made: {@code file://} only below configured root folders (no {@code ..} and no symbolic-link
 * escape), {@code http(s)://} only to allowed hosts, redirects only to allowed hosts, {@code s3://} only in
 * allowed buckets or bucket prefixes ({@link S3Store}); a total time limit and a size cap for all. References are
 * fetched concurrently on a bounded pool, apart from the thread that asks.
 */
public final class ReferenceFetcher implements AutoCloseable {

    /**
     * @param fileRoots    folders {@code file://} references may point into (empty: file references refused)
     * @param allowedHosts {@code host} or {@code host:port} entries for http(s) (empty: http references refused)
     * @param timeoutMs    total time one fetch may take, connection included
     * @param maxBytes     largest image accepted
     * @param s3Areas      buckets, or prefixes in them, that {@code s3://} references may read (empty: refused)
     * @param s3           how to reach S3 (null when {@code s3Areas} is empty)
     */
    public record Policy(List<Path> fileRoots, Set<String> allowedHosts, int timeoutMs, long maxBytes, int threads,
                         List<S3Location> s3Areas, S3Store.Settings s3) {

        /** No s3:// references. */
        public Policy(List<Path> fileRoots, Set<String> allowedHosts, int timeoutMs, long maxBytes, int threads) {
            this(fileRoots, allowedHosts, timeoutMs, maxBytes, threads, List.of(), null);
        }

        public boolean enabled() {
            return !fileRoots.isEmpty() || !allowedHosts.isEmpty() || !s3Areas.isEmpty();
        }
    }

    /** The bytes, or why there are none. */
    public sealed interface Result permits Fetched, Refused {
    }

    public record Fetched(byte[] bytes) implements Result {
    }

    public record Refused(FailureReason reason, String message) implements Result {
    }

    private static final int MAX_REDIRECTS = 3;

    private final Policy policy;
    private final List<Path> realRoots;
    private final ExecutorService pool;
    /** Null when s3:// references are refused. */
    private final S3Store s3;

    /** @throws S3Store.NoRegionException when s3:// references are allowed and no region can be found */
    public ReferenceFetcher(Policy policy) throws IOException {
        this.policy = policy;
        this.s3 = policy.s3Areas().isEmpty() ? null : new S3Store(policy.s3());
        List<Path> roots = new ArrayList<>();
        for (Path root : policy.fileRoots()) {
            roots.add(root.toRealPath());
        }
        this.realRoots = List.copyOf(roots);
        AtomicInteger n = new AtomicInteger();
        this.pool = Executors.newFixedThreadPool(Math.max(1, policy.threads()), r -> {
            Thread t = new Thread(r, "labelstream-fetch-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Fetches on the fetcher's own pool, so the caller never waits on the network. The time limit counts from
     * this call, waiting for a free fetch thread included: the future completes within it.
     */
    public CompletableFuture<Result> fetchAsync(ImageReference reference) {
        long deadline = deadlineFromNow();
        return CompletableFuture.supplyAsync(() -> fetch(reference, deadline), pool);
    }

    public Result fetch(ImageReference reference) {
        return fetch(reference, deadlineFromNow());
    }

    private long deadlineFromNow() {
        return System.nanoTime() + policy.timeoutMs() * 1_000_000L;
    }

    private Result fetch(ImageReference reference, long deadline) {
        if (System.nanoTime() - deadline >= 0) {
            return new Refused(FailureReason.FETCH_FAILED, reference.getUri() + " waited for a free fetch thread "
                    + "longer than " + policy.timeoutMs() + " ms (fetch.timeout.ms); raise fetch.threads");
        }
        try {
            byte[] bytes = fetchBytes(reference.getUri(), deadline);
            if (reference.getSizeBytes() != null && reference.getSizeBytes() != bytes.length) {
                return new Refused(FailureReason.FETCH_FAILED, reference.getUri() + " has " + bytes.length
                        + " bytes; the event says " + reference.getSizeBytes());
            }
            if (reference.getSha256() != null && !reference.getSha256().isBlank()) {
                String actual = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
                if (!actual.equalsIgnoreCase(reference.getSha256().strip())) {
                    return new Refused(FailureReason.FETCH_FAILED, reference.getUri() + " has SHA-256 " + actual
                            + "; the event says " + reference.getSha256());
                }
            }
            return new Fetched(bytes);
        } catch (ImageRejectedException e) {
            return new Refused(e.reason(), e.getMessage());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private byte[] fetchBytes(String text, long deadline) throws ImageRejectedException {
        if (S3Location.isS3(text)) {
            return readS3(text, deadline);
        }
        URI uri;
        try {
            uri = new URI(text.strip());
        } catch (URISyntaxException e) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, "not a valid URI: " + e.getMessage());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        return switch (scheme) {
            case "file" -> readFile(uri);
            case "http", "https" -> download(uri, deadline);
            default -> throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, "scheme '" + scheme
                    + "' is not allowed (file, http(s) or s3 only): " + text);
        };
    }

    private byte[] readFile(URI uri) throws ImageRejectedException {
        if (realRoots.isEmpty()) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED,
                    "file references are not allowed (fetch.file.roots is empty): " + uri);
        }
        Path path;
        try {
            path = Path.of(uri).normalize();
        } catch (IllegalArgumentException e) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, "not a local file URI: " + uri);
        }
        // First the path as written (catches '..'), then where it really leads (catches symbolic links).
        if (realRoots.stream().noneMatch(path::startsWith) && policy.fileRoots().stream()
                .map(p -> p.toAbsolutePath().normalize()).noneMatch(path::startsWith)) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, path + " is outside the allowed roots "
                    + policy.fileRoots());
        }
        Path real;
        try {
            real = path.toRealPath();
        } catch (NoSuchFileException e) {
            throw new ImageRejectedException(FailureReason.FETCH_FAILED, "no such file: " + path);
        } catch (IOException e) {
            throw new ImageRejectedException(FailureReason.FETCH_FAILED, "cannot read " + path + ": " + e.getMessage());
        }
        if (realRoots.stream().noneMatch(real::startsWith)) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, path + " leads to " + real
                    + ", outside the allowed roots " + policy.fileRoots());
        }
        try {
            long size = Files.size(real);
            if (size > policy.maxBytes()) {
                throw new ImageRejectedException(FailureReason.TOO_LARGE, real + " is " + size
                        + " bytes; the limit (image.max.bytes) is " + policy.maxBytes());
            }
            return Files.readAllBytes(real);
        } catch (IOException e) {
            throw new ImageRejectedException(FailureReason.FETCH_FAILED, "cannot read " + real + ": " + e.getMessage());
        }
    }

    /** Checked against the allowed areas before any request is made. */
    private byte[] readS3(String text, long deadline) throws ImageRejectedException {
        if (s3 == null) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED,
                    "s3 references are not allowed (fetch.s3.buckets is empty): " + text);
        }
        S3Location object;
        try {
            object = S3Location.parse(text);
        } catch (IllegalArgumentException e) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, e.getMessage());
        }
        if (object.key().isEmpty() || object.key().endsWith("/")) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, text + " names no object (a bucket "
                    + "or prefix is tagged with `labelstream produce " + text + "`)");
        }
        if (policy.s3Areas().stream().noneMatch(object::isIn)) {
            throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, object + " is outside the allowed "
                    + "buckets and prefixes (fetch.s3.buckets) " + policy.s3Areas());
        }
        return s3.get(object, deadline, policy.maxBytes(), policy.timeoutMs());
    }

    private boolean hostAllowed(URI uri) {
        String host = uri.getHost() == null ? "" : uri.getHost().toLowerCase(Locale.ROOT);
        int port = uri.getPort() != -1 ? uri.getPort() : uri.getScheme().equalsIgnoreCase("https") ? 443 : 80;
        return policy.allowedHosts().contains(host) || policy.allowedHosts().contains(host + ":" + port);
    }

    private byte[] download(URI start, long deadline) throws ImageRejectedException {
        URI uri = start;
        for (int redirects = 0; ; redirects++) {
            if (!hostAllowed(uri)) {
                throw new ImageRejectedException(FailureReason.REFERENCE_REFUSED, (uri == start ? "" : start
                        + " redirects to ") + uri + ": host '" + uri.getHost() + "' is not in fetch.http.hosts");
            }
            HttpURLConnection connection = null;
            try {
                connection = (HttpURLConnection) uri.toURL().openConnection();
                connection.setInstanceFollowRedirects(false);
                int remaining = remainingMs(deadline, uri);
                connection.setConnectTimeout(remaining);
                connection.setReadTimeout(remaining);
                int status = connection.getResponseCode();
                if (status >= 300 && status < 400 && connection.getHeaderField("Location") != null) {
                    if (redirects >= MAX_REDIRECTS) {
                        throw new ImageRejectedException(FailureReason.FETCH_FAILED, start + ": more than "
                                + MAX_REDIRECTS + " redirects");
                    }
                    uri = uri.resolve(connection.getHeaderField("Location"));
                    continue;
                }
                if (status != 200) {
                    throw new ImageRejectedException(FailureReason.FETCH_FAILED, uri + " answered HTTP " + status);
                }
                long declared = connection.getContentLengthLong();
                if (declared > policy.maxBytes()) {
                    throw new ImageRejectedException(FailureReason.TOO_LARGE, uri + " declares " + declared
                            + " bytes; the limit (image.max.bytes) is " + policy.maxBytes());
                }
                return readCapped(connection.getInputStream(), uri, deadline);
            } catch (SocketTimeoutException e) {
                throw new ImageRejectedException(FailureReason.FETCH_FAILED, uri + " did not answer within "
                        + policy.timeoutMs() + " ms (fetch.timeout.ms)");
            } catch (IOException | IllegalArgumentException e) {
                throw new ImageRejectedException(FailureReason.FETCH_FAILED, "cannot fetch " + uri + ": "
                        + e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage()));
            } finally {
                if (connection != null) {
                    connection.disconnect();
                }
            }
        }
    }

    private byte[] readCapped(InputStream in, URI uri, long deadline) throws IOException, ImageRejectedException {
        try (in) {
            java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                if (out.size() > policy.maxBytes()) {
                    throw new ImageRejectedException(FailureReason.TOO_LARGE, uri + " sent more than "
                            + policy.maxBytes() + " bytes (image.max.bytes)");
                }
                remainingMs(deadline, uri); // a server that trickles bytes still meets the total limit
            }
            return out.toByteArray();
        }
    }

    private int remainingMs(long deadline, URI uri) throws SocketTimeoutException {
        long left = (deadline - System.nanoTime()) / 1_000_000L;
        if (left <= 0) {
            throw new SocketTimeoutException(uri + " exceeded fetch.timeout.ms");
        }
        return (int) Math.min(Integer.MAX_VALUE, left);
    }

    @Override
    public void close() {
        pool.shutdownNow();
        if (s3 != null) {
            s3.close();
        }
    }
}
