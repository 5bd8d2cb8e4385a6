package io.labelstream.ops;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * The small HTTP server a platform's probes and Prometheus talk to: {@code /metrics} (Prometheus text format),
 * {@code /health/live} (the process is up and its pipeline has not failed) and {@code /health/ready} (the model
 * is loaded and the streams instance is RUNNING). No web framework: the JDK's own server is enough.
 */
public final class OpsServer implements AutoCloseable {

    private final HttpServer server;

    private OpsServer(HttpServer server) {
        this.server = server;
    }

    /**
     * @param port   0 picks a free port
     * @param status one line describing the pipeline's state, shown in the health answers
     */
    public static OpsServer start(int port, PrometheusMeterRegistry registry, BooleanSupplier live,
                                  BooleanSupplier ready, Supplier<String> status) throws IOException {
        HttpServer server = HttpServer.create(new InetSocketAddress(port), 0);
        server.createContext("/metrics", exchange -> respond(exchange, 200,
                "text/plain; version=0.0.4; charset=utf-8", registry.scrape()));
        server.createContext("/health/live", exchange -> health(exchange, live.getAsBoolean(), status.get()));
        server.createContext("/health/ready", exchange -> health(exchange, ready.getAsBoolean(), status.get()));
        server.setExecutor(null);
        server.start();
        return new OpsServer(server);
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void health(HttpExchange exchange, boolean ok, String status) throws IOException {
        respond(exchange, ok ? 200 : 503, "application/json",
                "{\"status\":\"" + (ok ? "UP" : "DOWN") + "\",\"pipeline\":" + jsonString(status) + "}\n");
    }

    /** {@code text} as a JSON string: the status may quote a registry's or broker's message. */
    private static String jsonString(String text) {
        return "\"" + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + "\"";
    }

    private static void respond(HttpExchange exchange, int code, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", type);
        if ("HEAD".equals(exchange.getRequestMethod())) {
            exchange.sendResponseHeaders(code, -1);
        } else {
            exchange.sendResponseHeaders(code, bytes.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
        exchange.close();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
