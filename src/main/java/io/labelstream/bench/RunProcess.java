package io.labelstream.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@code labelstream run} in its own JVM, as a user starts it, with its ops port on a free port: what a
 * benchmark measures of it (resident memory, CPU time) is that process's alone.
 */
final class RunProcess implements AutoCloseable {

    private final Process process;
    private final int opsPort;
    private final Path log;
    private final HttpClient http = HttpClient.newHttpClient();

    private RunProcess(Process process, int opsPort, Path log) {
        this.process = process;
        this.opsPort = opsPort;
        this.log = log;
    }

    static RunProcess start(Map<String, String> settings, List<String> jvmOptions) throws IOException {
        int port;
        try (var socket = new java.net.ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.labelstream.cli.Main");
        command.add("run");
        command.add("-s");
        command.add("ops.port=" + port);
        settings.forEach((k, v) -> {
            command.add("-s");
            command.add(k + "=" + v);
        });
        Path log = Files.createTempFile("labelstream-bench-run", ".log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new RunProcess(child, port, log);
    }

    long pid() {
        return process.pid();
    }

    /** Fails with the log's location when the process has exited. */
    void checkAlive() {
        if (!process.isAlive()) {
            throw new IllegalStateException("labelstream run exited early with " + process.exitValue() + "; see "
                    + log);
        }
    }

    /** Waits until /health/ready answers 200: the model is loaded and the pipeline is RUNNING. */
    void awaitReady(Duration timeout) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            checkAlive();
            try {
                int status = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort
                        + "/health/ready")).timeout(Duration.ofSeconds(2)).build(),
                        HttpResponse.BodyHandlers.discarding()).statusCode();
                if (status == 200) {
                    return;
                }
            } catch (IOException notYet) {
                // the ops server is not up yet
            }
            Thread.sleep(200);
        }
        throw new TimeoutException("labelstream run was not ready in " + timeout + "; see " + log);
    }

    /** The /metrics text, or empty while the endpoint is not up. */
    String metrics() throws InterruptedException {
        try {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + opsPort + "/metrics"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
        } catch (IOException e) {
            return "";
        }
    }

    /** A /proc/PID/status field in kB, 0 when absent. */
    long statusKb(String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(process.pid()), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }
}
