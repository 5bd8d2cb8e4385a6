package io.labelstream.review;

import io.labelstream.config.LabelstreamConfig;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A review console's HTTP API as a script or a browser uses it, for a console in this JVM or in another process:
 * pages and images with or without the session cookie, form posts with or without an {@code Origin}, signing in.
 */
final class ConsoleHttp {

    private final HttpClient http = HttpClient.newHttpClient();
    private final String base;

    /** @param base e.g. {@code http://127.0.0.1:PORT}, no trailing slash */
    ConsoleHttp(String base) {
        this.base = base;
    }

    /** Starts a console in this JVM with {@code settings}, {@code token} and then {@code more}, on a free port. */
    static ReviewConsole start(Map<String, String> settings, String token, Map<String, String> more)
            throws Exception {
        Map<String, String> s = new HashMap<>(settings);
        s.put("review.bind", "127.0.0.1:0");
        s.put("review.token", token);
        s.putAll(more);
        return ReviewConsole.start(LabelstreamConfig.of(s));
    }

    static ConsoleHttp of(ReviewConsole console) {
        return new ConsoleHttp("http://127.0.0.1:" + console.address().getPort());
    }

    /** The console's own origin, as its pages send it. */
    String base() {
        return base;
    }

    HttpResponse<String> get(String path, String cookie) throws IOException, InterruptedException {
        return http.send(request(path, cookie).build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> getBytes(String path, String cookie) throws IOException, InterruptedException {
        return http.send(request(path, cookie).build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<String> post(String path, String cookie, String origin, Map<String, String> form)
            throws IOException, InterruptedException {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.length() == 0 ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        HttpRequest.Builder r = request(path, cookie)
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (origin != null) {
            r.header("Origin", origin);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs in with {@code token} from the console's own origin and returns the Cookie header to send. */
    String signIn(String token, String reviewer) throws IOException, InterruptedException {
        HttpResponse<String> login = post("/login", null, base, Map.of("token", token, "reviewer", reviewer));
        assertThat(login.statusCode()).as(login.body()).isEqualTo(303);
        String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict");
        return setCookie.substring(0, setCookie.indexOf(';'));
    }

    private HttpRequest.Builder request(String path, String cookie) {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base + path));
        if (cookie != null) {
            r.header("Cookie", cookie);
        }
        return r;
    }
}
