package io.labelstream.model.zoo;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.function.LongConsumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One HTTP GET of a file into its part file, continuing from the bytes the part file already holds. Whether the
 * bytes are the right ones is not decided here: the caller checks the finished part file against its digest.
 */
final class ResumableDownload {

    /** A transfer that broke off after it had started: what arrived is in the part file, so trying again pays. */
    static final class BrokenOff extends IOException {
        BrokenOff(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-\\d+/(?:\\d+|\\*)");

    private final HttpClient http;

    ResumableDownload(HttpClient http) {
        this.http = http;
    }

    /**
     * Brings {@code part} towards {@code size} bytes of {@code uri}'s body. When it holds some already, asks for
     * the rest ({@code Range: bytes=N-}): a 206 from N is appended; a 200 (a server that ignores ranges) is
     * written from the start. No {@code If-Range}: the file is pinned by digest, so bytes of another version are
     * refused by the caller's check whichever way they arrive, and the Hub's redirect target changes per request.
     *
     * @param progress told the part file's length as it grows
     * @throws BrokenOff when the body stopped before its end (the part file keeps what arrived)
     * @throws IOException when no usable answer came: naming the file, the HTTP status and the host that gave it
     */
    void into(URI uri, Path part, long size, LongConsumer progress) throws IOException {
        long held = Files.isRegularFile(part) ? Files.size(part) : 0;
        if (held >= size) {
            return;
        }
        // The timeout ends with the response headers: the JDK client does not time a body (JDK-8258397), so a
        // stalled transfer is ended with Ctrl-C, and the next fetch continues it.
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(2)).GET();
        if (held > 0) {
            request.header("Range", "bytes=" + held + "-");
        }
        HttpResponse<InputStream> response = send(request.build());
        String file = fileName(uri);
        String host = response.uri().getAuthority();
        switch (response.statusCode()) {
            case 200 -> held = 0;
            case 206 -> {
                long start = rangeStart(response).orElse(-1L);
                if (start != held) {
                    response.body().close();
                    Files.deleteIfExists(part);
                    throw new BrokenOff("cannot resume " + file + ": " + host + " answered bytes from " + start
                            + " when asked for bytes from " + held + "; starting again from the first byte", null);
                }
            }
            case 416 -> {
                response.body().close();
                Files.deleteIfExists(part);
                throw new BrokenOff("cannot resume " + file + ": " + host + " refused the range from byte " + held
                        + " (HTTP 416); starting again from the first byte", null);
            }
            default -> {
                response.body().close();
                throw new IOException("cannot download " + file + ": HTTP " + response.statusCode() + " from "
                        + host + " (" + response.uri() + ")" + redirectNotFollowed(response));
            }
        }
        copy(response, part, held, size, progress);
    }

    private HttpResponse<InputStream> send(HttpRequest request) throws IOException {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw new IOException("cannot download " + request.uri() + " (" + describe(e) + "). 'model fetch' is the "
                    + "only part of labelstream that uses the network; on an offline machine, download the file "
                    + "elsewhere and pass it with --model", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while downloading " + request.uri(), e);
        }
    }

    private static void copy(HttpResponse<InputStream> response, Path part, long from, long size,
                             LongConsumer progress) throws IOException {
        StandardOpenOption mode = from == 0 ? StandardOpenOption.TRUNCATE_EXISTING : StandardOpenOption.APPEND;
        long written = from;
        try (InputStream in = response.body();
             OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                     mode)) {
            byte[] buffer = new byte[1 << 16];
            // Reading stops one buffer past the pinned size: a longer body is wrong whatever follows.
            for (int n; written <= size && (n = in.read(buffer)) > 0; ) {
                out.write(buffer, 0, n);
                written += n;
                progress.accept(written);
            }
        } catch (IOException e) {
            throw new BrokenOff("the download of " + fileName(response.request().uri()) + " from "
                    + response.uri().getAuthority() + " broke off after " + written + " of " + size + " bytes ("
                    + describe(e) + ")", e);
        }
    }

    private static Optional<Long> rangeStart(HttpResponse<?> response) {
        return response.headers().firstValue("Content-Range").map(CONTENT_RANGE::matcher).filter(Matcher::matches)
                .map(m -> Long.parseLong(m.group(1)));
    }

    /** The JDK client follows redirects except from https to http; say so when that is why one stopped here. */
    private static String redirectNotFollowed(HttpResponse<?> response) {
        int status = response.statusCode();
        if (status < 300 || status > 399) {
            return "";
        }
        return response.headers().firstValue("Location")
                .map(location -> ": its redirect to " + location + " was not followed (labelstream follows "
                        + "redirects to http and https, but never from https to http)")
                .orElse(": a redirect without a Location");
    }

    private static String fileName(URI uri) {
        String path = uri.getPath();
        return path.substring(path.lastIndexOf('/') + 1);
    }

    static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }
}
