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
        Topics topics = Topics.forConfig(LabelstreamConfig.of(settings));
        runs.preload(topics.input(), name, jpegs, images);
        double peakRss = 0;
        double peakHeap = 0;
        try (RunProcess child = RunProcess.start(settings, jvmOptions);
             var labels = runs.labelsConsumer(topics.labels(), 100)) {
            long t0 = System.nanoTime();
            long deadline = t0 + TimeUnit.MINUTES.toNanos(60);
            long nextSample = 0;
            int seen = 0;
            while (seen < images) {
                seen += labels.poll(Duration.ofMillis(50)).count();
                if (System.nanoTime() >= nextSample) {
                    peakRss = Math.max(peakRss, child.statusKb("VmRSS") / 1024.0);
                    peakHeap = Math.max(peakHeap, heapUsedMb(child.metrics()));
                    nextSample = System.nanoTime() + 200_000_000L;
                }
                child.checkAlive();
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("labelstream run did not label " + images + " images in an hour");
                }
            }
            double seconds = (System.nanoTime() - t0) / 1e9;
            double highWater = child.statusKb("VmHWM") / 1024.0;
            return new Result(images, seconds, Math.max(peakRss, highWater), peakHeap, jvmOptions);
        }
    }

    /** Sum of the heap pools' jvm_memory_used_bytes; 0 while the endpoint is not up yet. */
    private static double heapUsedMb(String metrics) {
        double bytes = 0;
        for (String line : metrics.split("\n")) {
            if (line.startsWith("jvm_memory_used_bytes{") && line.contains("area=\"heap\"")) {
                bytes += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
            }
        }
        return bytes / (1024 * 1024);
    }
}
