package io.labelstream.review;

import io.labelstream.config.LabelstreamConfig;

import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** A console on a free loopback port, and a reviewer's requests to it over HTTP, as the console's tests send them. */
final class ConsoleHttp {

    private ConsoleHttp() {
    }

    /** Starts a console with {@code settings}, {@code token} and then {@code more} settings, on a free port. */
    static ReviewConsole start(Map<String, String> settings, String token, Map<String, String> more)
            throws Exception {
        Map<String, String> s = new HashMap<>(settings);
        s.put("review.bind", "127.0.0.1:0");
        s.put("review.token", token);
        s.putAll(more);
        return ReviewConsole.start(LabelstreamConfig.of(s));
    }

    static String base(ReviewConsole console) {
        return "http://127.0.0.1:" + console.address().getPort();
    }

    static HttpResponse<String> get(HttpClient http, ReviewConsole console, String path, String cookie)
            throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base(console) + path));
        if (cookie != null) {
            r.header("Cookie", cookie);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    static HttpResponse<String> post(HttpClient http, ReviewConsole console, String path, String cookie,
                                     String origin, Map<String, String> form) throws Exception {
        StringBuilder body = new StringBuilder();
        form.forEach((k, v) -> body.append(body.length() == 0 ? "" : "&").append(k).append('=')
                .append(URLEncoder.encode(v, StandardCharsets.UTF_8)));
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create(base(console) + path))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body.toString()));
        if (cookie != null) {
            r.header("Cookie", cookie);
        }
        if (origin != null) {
            r.header("Origin", origin);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Signs in with {@code token} and returns the Cookie header to send. */
    static String signIn(HttpClient http, ReviewConsole console, String token, String reviewer) throws Exception {
        HttpResponse<String> login = post(http, console, "/login", null, base(console),
                Map.of("token", token, "reviewer", reviewer));
        assertThat(login.statusCode()).isEqualTo(303);
        String setCookie = login.headers().firstValue("Set-Cookie").orElseThrow();
        assertThat(setCookie).contains("HttpOnly").contains("SameSite=Strict");
        return setCookie.substring(0, setCookie.indexOf(';'));
    }
}
