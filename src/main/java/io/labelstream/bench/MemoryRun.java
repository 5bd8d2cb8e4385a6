package io.labelstream.bench;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.Topics;

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
 * Peak memory of a pipeline working through a large backlog: {@code labelstream run} in its own JVM (so its
 * resident set is its own, not the benchmark's or the broker's), sampled every 200 ms for resident set size
 * (from /proc) and heap in use (from its /metrics), with the kernel's own high-water mark read at the end.
 */
final class MemoryRun {

    /** @param peakRssMb VmHWM: the most resident memory the process ever had */
    record Result(int images, double seconds, double peakRssMb, double peakHeapMb, List<String> jvmOptions) {
    }

    private MemoryRun() {
    }

    static Result run(PipelineRuns runs, String name, Path model, List<byte[]> jpegs, int batch, int images,
                      List<String> jvmOptions) throws Exception {
        Map<String, String> settings = runs.settings(name, model, batch);
        Topics topics = Topics.from(LabelstreamConfig.of(settings));
        runs.preload(topics.input(), name, jpegs, images);
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
        settings.put("ops.port", Integer.toString(port));
        settings.forEach((k, v) -> {
            command.add("-s");
            command.add(k + "=" + v);
        });
        Path log = Files.createTempFile("labelstream-bench-memory", ".log");
        Process child = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        HttpClient http = HttpClient.newHttpClient();
        double peakRss = 0;
        double peakHeap = 0;
        try (var labels = runs.labelsConsumer(topics.labels(), 100)) {
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.MINUTES.toNanos(60);
            long nextSample = 0;
            int seen = 0;
            while (seen < images) {
                seen += labels.poll(Duration.ofMillis(50)).count();
                if (System.nanoTime() >= nextSample) {
                    peakRss = Math.max(peakRss, procStatusKb(child.pid(), "VmRSS") / 1024.0);
                    peakHeap = Math.max(peakHeap, heapUsedMb(http, port));
                    nextSample = System.nanoTime() + 200_000_000L;
                }
                if (!child.isAlive()) {
                    throw new IllegalStateException("labelstream run exited early; see " + log);
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("labelstream run did not label " + images + " images in an hour");
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double highWater = procStatusKb(child.pid(), "VmHWM") / 1024.0;
            return new Result(images, seconds, Math.max(peakRss, highWater), peakHeap, jvmOptions);
        } finally {
            child.destroy();
            if (!child.waitFor(30, TimeUnit.SECONDS)) {
                child.destroyForcibly();
            }
        }
    }

    private static long procStatusKb(long pid, String field) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(field + ":")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return 0;
    }

    /** Sum of the heap pools' jvm_memory_used_bytes; 0 while the endpoint is not up yet. */
    private static double heapUsedMb(HttpClient http, int port) {
        try {
            String body = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString()).body();
            double bytes = 0;
            for (String line : body.split("\n")) {
                if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                    bytes += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
                }
            }
            return bytes / (1024 * 1024);
        } catch (IOException e) {
            return 0;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 0;
        }
    }
}
