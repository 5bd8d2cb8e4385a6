package io.labelstream.bench;

import com.sun.management.UnixOperatingSystemMXBean;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageEvents;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import io.labelstream.stream.Pipeline;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Steady load for a fixed time against the embedded broker: a producer at a fixed rate, the pipeline, and a
 * read_committed reader counting labels. Resources (heap after GC, threads, open file descriptors) are sampled
 * after a warm-up and at the end; the run fails if any of them grew beyond what a leak-free process shows.
 */
public final class SoakRun {

    /** One resource sample. */
    public record Sample(long heapAfterGcBytes, int threads, long openFiles, long labeled) {
    }

    /** Start and end samples and the throughput between them. */
    public record Result(Sample start, Sample end, double labelsPerSecond, long published, long labeled) {
        /** Growth allowed: 64 MB of heap, 10 threads, 20 files (client reconnects and JIT threads come and go). */
        public boolean bounded() {
            return end.heapAfterGcBytes <= start.heapAfterGcBytes + (64L << 20) && end.threads <= start.threads + 10
                    && end.openFiles <= start.openFiles + 20;
        }
    }

    private final LabelstreamConfig config;
    private final Duration duration;
    private final double rate;
    private final PrintStream out;

    public SoakRun(LabelstreamConfig config, Duration duration, double rate, PrintStream out) {
        this.config = config;
        this.duration = duration;
        this.rate = rate;
        this.out = out;
    }

    public Result run() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start();
             LabelingEngine engine = EngineFactory.create(config, Duration.ofMillis(config.transactionTimeoutMs()))) {
            Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
            KafkaClients clients = KafkaClients.of(config, kafka.bootstrapServers());
            Topics topics = Topics.forConfig(config);
            AtomicBoolean stop = new AtomicBoolean();
            AtomicLong published = new AtomicLong();
            AtomicLong labeled = new AtomicLong();
            Thread producer = new Thread(() -> produce(clients, topics.input(), stop, published),
                    "labelstream-soak-producer");
            Thread reader = new Thread(() -> read(clients, topics.labels(), stop, labeled), "labelstream-soak-reader");
            // Joined for at most 30 s each when the run ends: one still blocked then must not keep the JVM alive.
            producer.setDaemon(true);
            reader.setDaemon(true);
            try {
                if (!pipeline.awaitRunning(Duration.ofSeconds(60))) {
                    throw new IllegalStateException("pipeline did not start");
                }
                producer.start();
                reader.start();
                long warmUp = Math.min(duration.toMillis() / 4, 30_000);
                Thread.sleep(warmUp);
                Sample start = sample(labeled.get());
                long t0 = System.nanoTime();
                out.printf("soak: %s at %.0f images/s; start: %s%n", duration, rate, describe(start));
                long endAt = System.currentTimeMillis() + duration.toMillis() - warmUp;
                while (System.currentTimeMillis() < endAt && pipeline.fatalError() == null) {
                    Thread.sleep(Math.min(10_000, Math.max(1, endAt - System.currentTimeMillis())));
                    out.printf("  %s labeled %d of %d published%n", Instant.now(), labeled.get(), published.get());
                }
                Sample end = sample(labeled.get());
                double seconds = (System.nanoTime() - t0) / 1e9;
                Result result = new Result(start, end, (end.labeled - start.labeled) / seconds, published.get(),
                        labeled.get());
                out.printf("soak: end:   %s%nsoak: %.1f labels/s over %.0f s; %d published, %d labeled; resources %s%n",
                        describe(end), result.labelsPerSecond(), seconds, result.published(), result.labeled(),
                        result.bounded() ? "bounded" : "GREW");
                if (pipeline.fatalError() != null) {
                    throw new IllegalStateException("pipeline failed during the soak", pipeline.fatalError());
                }
                return result;
            } finally {
                stop.set(true);
                producer.join(30_000);
                reader.join(30_000);
                pipeline.close();
            }
        }
    }

    private void produce(KafkaClients clients, Topic<ImageEvent> input, AtomicBoolean stop, AtomicLong published) {
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            images.add(SyntheticImages.jpeg(640, 480, 700 + i));
        }
        long t0 = System.nanoTime();
        try (var producer = clients.producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 5))) {
            for (long n = 0; !stop.get(); n++) {
                long due = t0 + (long) (n / rate * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
                }
                String id = "soak-" + n;
                producer.send(input.record(id,
                        ImageEvents.inline(id, images.get((int) (n % images.size())), "image/jpeg").build()));
                published.incrementAndGet();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void read(KafkaClients clients, Topic<ImageLabels> labels, AtomicBoolean stop, AtomicLong labeled) {
        try (var consumer = clients.readCommittedConsumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG, "soak-reader",
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            consumer.subscribe(List.of(labels.name()));
            while (!stop.get()) {
                labeled.addAndGet(consumer.poll(Duration.ofMillis(500)).count());
            }
        }
    }

    private static Sample sample(long labeled) {
        for (int i = 0; i < 3; i++) {
            System.gc();
        }
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        int threads = ManagementFactory.getThreadMXBean().getThreadCount();
        long files = ManagementFactory.getOperatingSystemMXBean() instanceof UnixOperatingSystemMXBean unix
                ? unix.getOpenFileDescriptorCount() : -1;
        return new Sample(heap, threads, files, labeled);
    }

    private static String describe(Sample s) {
        return String.format("heap after GC %d MB, %d threads, %d open files", s.heapAfterGcBytes >> 20, s.threads,
                s.openFiles);
    }
}
