package io.labelstream.review;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReview;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * The console's HTTP side: login, the page of flagged images, their images, decisions, the list of waiting ids the
 * page polls, and /metrics. Everything but the login form and the console's own script and stylesheet needs a
 * session ({@link ConsoleAccess}); /metrics also takes the token as a bearer token, for Prometheus. Requests that
 * change something must come from the console's own pages ({@link OriginCheck}).
 */
final class ReviewServer implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReviewServer.class);
    static final String CONTENT_SECURITY_POLICY = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";
    private static final int MAX_FORM_BYTES = 16 * 1024;

    private final HttpServer server;
    private final ExecutorService workers = Executors.newFixedThreadPool(4, r -> {
        Thread t = new Thread(r, "labelstream-review-http");
        t.setDaemon(true);
        return t;
    });
    private final ReviewConsole console;
    private final ConsoleAccess access;

    ReviewServer(InetSocketAddress bind, ReviewConsole console, ConsoleAccess access) throws IOException {
        this.console = console;
        this.access = access;
        this.server = HttpServer.create(bind, 0);
        server.createContext("/", this::handle);
        server.setExecutor(workers);
        server.start();
    }

    InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            try {
                serve(exchange);
            } catch (FormTooLarge e) {
                answerIfUnanswered(exchange, 413, e.getMessage());
            } catch (RuntimeException e) {
                log.warn("Review console request failed: {}", e.toString(), e);
                answerIfUnanswered(exchange, 500, "the console failed on this request: " + e);
            }
        }
    }

    /** A reply to a request that failed before its answer began; one that began is only cut short. */
    private static void answerIfUnanswered(HttpExchange exchange, int status, String text) throws IOException {
        if (exchange.getResponseCode() == -1) {
            send(exchange, status, "text/plain; charset=utf-8", text);
        }
    }

    /** A form body over {@link #MAX_FORM_BYTES}: answered 413, not read. */
    private static final class FormTooLarge extends IOException {
        FormTooLarge() {
            super("form over " + MAX_FORM_BYTES + " bytes");
        }
    }

    private void serve(HttpExchange exchange) throws IOException {
        var h = exchange.getResponseHeaders();
        h.set("Content-Security-Policy", CONTENT_SECURITY_POLICY);
        h.set("X-Content-Type-Options", "nosniff");
        // same-origin, not no-referrer: under no-referrer browsers send "Origin: null" with the console's own forms.
        h.set("Referrer-Policy", "same-origin");
        h.set("Cache-Control", "no-store");
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        if (!method.equals("GET") && !method.equals("HEAD")) {
            var r = exchange.getRequestHeaders();
            Optional<String> refusal = OriginCheck.refusal(r.getFirst("Host"), r.getFirst("Origin"),
                    r.getFirst("Sec-Fetch-Site"));
            if (refusal.isPresent()) {
                send(exchange, 403, "text/plain; charset=utf-8", refusal.get());
                return;
            }
        }
        if (path.startsWith("/static/")) {
            staticFile(exchange, path.substring("/static/".length()));
        } else if (path.equals("/login")) {
            login(exchange, method);
        } else if (path.equals("/metrics") && bearer(exchange)) {
            send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", console.metrics().scrape());
        } else {
            // The page's poll for decided images runs by itself: it does not keep an idle session alive.
            boolean polled = path.equals("/api/items");
            Optional<String> reviewer = access.reviewer(exchange.getRequestHeaders().getFirst("Cookie"),
                    !polled);
            if (reviewer.isEmpty()) {
                refuseWithoutSession(exchange, path);
            } else {
                signedIn(exchange, method, path, reviewer.get());
            }
        }
    }

    private void signedIn(HttpExchange exchange, String method, String path, String reviewer) throws IOException {
        if (path.equals("/") && method.equals("GET")) {
            page(exchange, 200, reviewer, null);
        } else if (path.equals("/api/items") && method.equals("GET")) {
            send(exchange, 200, "application/json", console.waitingJson());
        } else if (path.startsWith("/images/") && method.equals("GET")) {
            image(exchange, URLDecoder.decode(path.substring("/images/".length()), StandardCharsets.UTF_8));
        } else if (path.equals("/decide") && method.equals("POST")) {
            decide(exchange, reviewer);
        } else if (path.equals("/logout") && method.equals("POST")) {
            access.logout(exchange.getRequestHeaders().getFirst("Cookie"));
            exchange.getResponseHeaders().add("Set-Cookie", ConsoleAccess.expiredCookie());
            redirect(exchange, "/login");
        } else if (path.equals("/metrics")) {
            send(exchange, 200, "text/plain; version=0.0.4; charset=utf-8", console.metrics().scrape());
        } else {
            send(exchange, 404, "text/plain; charset=utf-8", "no such page: " + method + " " + path);
        }
    }

    private void login(HttpExchange exchange, String method) throws IOException {
        if (method.equals("POST")) {
            Map<String, String> form = form(exchange);
            Optional<String> session = access.login(form.get("token"), form.get("reviewer"));
            if (session.isPresent()) {
                exchange.getResponseHeaders().add("Set-Cookie", ConsoleAccess.cookie(session.get()));
                redirect(exchange, "/");
            } else {
                send(exchange, 401, "text/html; charset=utf-8", ReviewPages.login("That token is not the"
                        + " console's (review.token)."));
            }
        } else {
            send(exchange, 200, "text/html; charset=utf-8", ReviewPages.login(null));
        }
    }

    private void decide(HttpExchange exchange, String reviewer) throws IOException {
        Map<String, String> form = form(exchange);
        String id = form.getOrDefault("id", "");
        ReviewQueue.Claim claim = console.queue().claim(id, reviewer);
        if (claim instanceof ReviewQueue.Refused refused) {
            page(exchange, 409, reviewer, refused.reason());
            return;
        }
        ImageLabels item = ((ReviewQueue.Granted) claim).item();
        ImageReview review;
        try {
            review = Decisions.review(item, form.get("decision"), form.get("label"), reviewer, Instant.now());
        } catch (IllegalArgumentException e) {
            console.queue().release(id);
            page(exchange, 400, reviewer, e.getMessage());
            return;
        }
        Optional<ImageReview> first;
        try {
            first = console.record(review);
        } catch (RuntimeException e) {
            console.queue().release(id);
            log.warn("Could not write the decision on {}: {}", id, e.toString());
            page(exchange, 503, reviewer, "The decision on " + id + " could not be written to the reviews topic ("
                    + e.getMessage() + "); nothing was recorded, try again.");
            return;
        }
        if (first.isPresent()) {
            // Another console decided it in the same instant; its decision is the one on the topic.
            console.queue().release(id);
            page(exchange, 409, reviewer, ReviewQueue.alreadyDecided(first.get()).reason());
            return;
        }
        redirect(exchange, "/");
    }

    private void image(HttpExchange exchange, String id) throws IOException {
        Optional<byte[]> png;
        try {
            png = console.png(id);
        } catch (IOException e) {
            send(exchange, 502, "text/plain; charset=utf-8", e.getMessage());
            return;
        }
        if (png.isEmpty()) {
            send(exchange, 404, "text/plain; charset=utf-8", "no flagged image " + id + " is waiting");
            return;
        }
        exchange.getResponseHeaders().set("Content-Type", "image/png");
        exchange.sendResponseHeaders(200, png.get().length);
        exchange.getResponseBody().write(png.get());
    }

    private void page(HttpExchange exchange, int status, String reviewer, String notice) throws IOException {
        send(exchange, status, "text/html; charset=utf-8", console.page(reviewer, notice));
    }

    private void refuseWithoutSession(HttpExchange exchange, String path) throws IOException {
        if (path.equals("/") && exchange.getRequestMethod().equals("GET")) {
            redirect(exchange, "/login");
        } else {
            send(exchange, 401, "text/plain; charset=utf-8", "sign in first");
        }
    }

    private boolean bearer(HttpExchange exchange) {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        return authorization != null && authorization.startsWith("Bearer ")
                && access.isToken(authorization.substring("Bearer ".length()).strip());
    }

    private void staticFile(HttpExchange exchange, String name) throws IOException {
        String type = name.equals("console.js") ? "text/javascript; charset=utf-8"
                : name.equals("console.css") ? "text/css; charset=utf-8" : null;
        try (InputStream in = type == null ? null : ReviewServer.class.getResourceAsStream("/review/" + name)) {
            if (in == null) {
                send(exchange, 404, "text/plain; charset=utf-8", "no such file");
                return;
            }
            byte[] body = in.readAllBytes();
            exchange.getResponseHeaders().set("Content-Type", type);
            exchange.sendResponseHeaders(200, body.length);
            exchange.getResponseBody().write(body);
        }
    }

    private static Map<String, String> form(HttpExchange exchange) throws IOException {
        byte[] body = exchange.getRequestBody().readNBytes(MAX_FORM_BYTES + 1);
        if (body.length > MAX_FORM_BYTES) {
            throw new FormTooLarge();
        }
        Map<String, String> form = new HashMap<>();
        for (String pair : new String(body, StandardCharsets.UTF_8).split("&")) {
            String[] kv = pair.split("=", 2);
            if (!kv[0].isEmpty()) {
                form.putIfAbsent(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
                        kv.length == 2 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
            }
        }
        return form;
    }

    private static void redirect(HttpExchange exchange, String to) throws IOException {
        exchange.getResponseHeaders().set("Location", to);
        exchange.sendResponseHeaders(303, -1);
    }

    private static void send(HttpExchange exchange, int status, String type, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        exchange.sendResponseHeaders(status, body.length);
        exchange.getResponseBody().write(body);
    }

    @Override
    public void close() {
        server.stop(0);
        workers.shutdownNow();
    }
}
