package io.labelstream.bench;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.Topics;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * What a user pays for: CPU time of {@code labelstream run} in its own JVM, read from /proc while it works through
 * a pre-loaded backlog, and while it has nothing to do. The backlog is measured over its last two thirds: a
 * service starts, loads its model and has the JIT compile its paths once, and in a backlog of a few seconds'
 * work that first third would count those one-time costs as if every image paid them. The broker is another
 * process and is not counted.
 */
final class CostRun {

    /**
     * @param cpu   the process's CPU over the measured window, by thread group
     * @param kafka what it asked of Kafka over the same window
     */
    record Backlog(int images, double seconds, ProcessCpu.Snapshot cpu, KafkaWork kafka) {

        double imagesPerSecond() {
            return images / seconds;
        }

        double cpuMsPerImage() {
            return cpu.totalNanos() / 1e6 / images;
        }

        double groupUsPerImage(String group) {
            return cpu.groupNanos().getOrDefault(group, 0L) / 1e3 / images;
        }

        /**
         * CPU ms per image of every thread but those running ONNX Runtime: what labelstream adds to the model's own
         * work. Unlike the process total it hardly moves with the speed of inference, which drifts by several per
         * cent within a minute on a shared host.
         */
        double outsideInferenceMsPerImage() {
            return (cpu.threadNanos() - cpu.groupNanos().getOrDefault(ProcessCpu.INFERENCE, 0L)) / 1e6 / images;
        }
    }

    /** @param broker the broker process's CPU over the same window, or null when it is not a process of its own */
    record Idle(double seconds, ProcessCpu.Snapshot labelstream, ProcessCpu.Snapshot broker) {

        /** From the threads' own nanosecond counters: the process total is counted in 10 ms ticks. */
        double msPerSecond(ProcessCpu.Snapshot cpu) {
            return cpu.threadNanos() / 1e6 / seconds;
        }

        double groupMsPerSecond(String group) {
            return labelstream.groupNanos().getOrDefault(group, 0L) / 1e6 / seconds;
        }
    }

    private CostRun() {
    }

    /**
     * Thread names: a short client id, so the stream thread's name still says what it is in the 15 characters the
     * kernel keeps of it.
     */
    private static Map<String, String> settings(PipelineRuns runs, String name, Path model, int batch)
            throws java.io.IOException {
        Map<String, String> settings = new HashMap<>(runs.settings(name, model, batch));
        settings.put(LabelstreamConfig.KAFKA_PREFIX + "client.id", "ls");
        return settings;
    }

    static Backlog backlog(PipelineRuns runs, String name, Path model, List<byte[]> jpegs, int batch, int images)
            throws Exception {
        return backlog(runs, name, model, jpegs, batch, images, Map.of());
    }

    /** As above, with {@code extra} settings over the run's own (a side model, say). */
    static Backlog backlog(PipelineRuns runs, String name, Path model, List<byte[]> jpegs, int batch, int images,
                           Map<String, String> extra) throws Exception {
        Map<String, String> settings = settings(runs, name, model, batch);
        settings.putAll(extra);
        Topics topics = Topics.forConfig(LabelstreamConfig.of(settings));
        runs.preload(topics.input(), name, jpegs, images);
        try (RunProcess child = RunProcess.start(settings, runs.runJvm());
             var labels = runs.labelsConsumer(topics.labels(), 20)) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(30);
            int seen = 0;
            ProcessCpu.Snapshot first = null;
            KafkaWork kafkaAtFirst = null;
            long firstAt = 0;
            int seenAtFirst = 0;
            long nextWarmingScrape = System.nanoTime();
            while (seen < images) {
                seen += labels.poll(Duration.ofMillis(20)).count();
                if (first == null && seen >= images / 3 && seen < images) {
                    // The scrapes lie outside the CPU window: serving /metrics is the bench's doing, not a cost.
                    kafkaAtFirst = KafkaWork.parse(child.metrics());
                    first = ProcessCpu.of(child.pid());
                    firstAt = System.nanoTime();
                    seenAtFirst = seen;
                } else if (first == null && seen > 0 && System.nanoTime() - nextWarmingScrape >= 0) {
                    // The window opens with a scrape of /metrics. After a single scrape before it, the JIT compiled
                    // the ops server's path (a hundred-odd methods) inside the window, a cost of the bench's
                    // scraping, not of labelling. Scraped once a second until then, that path is compiled first.
                    child.metrics();
                    nextWarmingScrape = System.nanoTime() + TimeUnit.SECONDS.toNanos(1);
                }
                child.checkAlive();
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("labelstream run did not label " + images + " images in 30 minutes");
                }
            }
            if (first == null) {
                throw new IllegalStateException("the " + images + " labels arrived at once; a cost run needs a "
                        + "backlog of several batches");
            }
            ProcessCpu.Snapshot last = ProcessCpu.of(child.pid());
            double seconds = (System.nanoTime() - firstAt) / 1e9;
            KafkaWork kafka = KafkaWork.parse(child.metrics()).minus(kafkaAtFirst);
            return new Backlog(images - seenAtFirst, seconds, last.minus(first), kafka);
        }
    }

    /**
     * An instance with an empty input topic: started, ready, left {@code settle} to finish starting, then measured
     * for {@code measured}.
     */
    static Idle idle(PipelineRuns runs, String name, Path model, int batch, Duration settle, Duration measured,
                     Long brokerPid) throws Exception {
        Map<String, String> settings = settings(runs, name, model, batch);
        runs.createTopic(Topics.forConfig(LabelstreamConfig.of(settings)).input());
        try (RunProcess child = RunProcess.start(settings, runs.runJvm())) {
            child.awaitReady(Duration.ofMinutes(3));
            Thread.sleep(settle.toMillis());
            ProcessCpu.Snapshot before = ProcessCpu.of(child.pid());
            ProcessCpu.Snapshot brokerBefore = brokerPid == null ? null : ProcessCpu.of(brokerPid);
            long t0 = System.nanoTime();
            Thread.sleep(measured.toMillis());
            child.checkAlive();
            ProcessCpu.Snapshot after = ProcessCpu.of(child.pid());
            ProcessCpu.Snapshot brokerAfter = brokerPid == null ? null : ProcessCpu.of(brokerPid);
            double seconds = (System.nanoTime() - t0) / 1e9;
            return new Idle(seconds, after.minus(before), brokerPid == null ? null : brokerAfter.minus(brokerBefore));
        }
    }
}
