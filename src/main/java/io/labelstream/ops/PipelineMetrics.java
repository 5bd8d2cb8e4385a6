package io.labelstream.ops;

import io.labelstream.schema.FailureReason;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * labelstream's own metrics, named the Micrometer way ({@code labelstream.images.labeled}) so that the Prometheus
 * registry exposes them by Prometheus conventions ({@code labelstream_images_labeled_total},
 * {@code labelstream_inference_seconds_bucket}, …).
 */
public final class PipelineMetrics {

    private final MeterRegistry registry;
    private final Counter labeled;
    private final Counter dedupHits;
    private final Map<FailureReason, Counter> failed = new EnumMap<>(FailureReason.class);
    private final Map<String, Counter> flagged = new ConcurrentHashMap<>();
    private final DistributionSummary batchSize;
    private final Timer queue;
    private final Timer preprocess;
    private final Timer inference;
    private final Timer endToEnd;
    private final Counter reloadsLoaded;
    private final Counter reloadsRefused;
    private Gauge modelInfo;
    private final Map<String, Shadow> shadows = new ConcurrentHashMap<>();
    private final Map<String, Timer> sideInference = new ConcurrentHashMap<>();

    public PipelineMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.labeled = Counter.builder("labelstream.images.labeled").description("Images labeled")
                .register(registry);
        this.dedupHits = Counter.builder("labelstream.dedup.hits")
                .description("Images labeled from the dedup cache, without inference").register(registry);
        for (FailureReason reason : FailureReason.values()) {
            failed.put(reason, Counter.builder("labelstream.images.failed").description("Images sent to the failures topic")
                    .tag("reason", reason.name()).register(registry));
        }
        this.batchSize = DistributionSummary.builder("labelstream.batch.size").description("Images per inference call")
                .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64).register(registry);
        this.queue = timer("labelstream.queue", "Time an image waited in the batch buffer");
        this.preprocess = timer("labelstream.preprocess", "Decode and preprocess time of a batch");
        this.inference = timer("labelstream.inference", "ONNX Runtime time of a batch");
        this.endToEnd = timer("labelstream.end.to.end", "From the event's time to its labels being produced");
        this.reloadsLoaded = reload("loaded");
        this.reloadsRefused = reload("refused");
    }

    private Counter reload(String result) {
        return Counter.builder("labelstream.model.reloads").description("New model files loaded or refused"
                + " (model.reload=watch)").tag("result", result).register(registry);
    }

    private Timer timer(String name, String description) {
        return Timer.builder(name).description(description).publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(2))
                .register(registry);
    }

    /** Metrics kept in memory only, for tests and tools that expose none. */
    public static PipelineMetrics inMemory() {
        return new PipelineMetrics(new SimpleMeterRegistry());
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** {@code max.batch.size}, so that a dashboard shows batch fill: the mean batch ÷ this. */
    public void batchLimit(int maxBatchSize) {
        Gauge.builder("labelstream.batch.limit", () -> maxBatchSize)
                .description("The largest batch an inference call takes (max.batch.size)").register(registry);
    }

    /** 1 while the instance is ready (as /health/ready answers), else 0: for alerts. */
    public void readiness(java.util.function.BooleanSupplier ready) {
        Gauge.builder("labelstream.ready", () -> ready.getAsBoolean() ? 1 : 0)
                .description("1 when the instance is ready to label (as /health/ready), 0 otherwise").register(registry);
    }

    /**
     * Schema ids whose records wait because the schema registry has not answered for them (0 while it answers):
     * such records hold their partitions, in order, and the instance is not ready meanwhile.
     */
    public void schemaRegistry(java.util.function.IntSupplier waitingSchemas) {
        Gauge.builder("labelstream.schema.registry.waiting", waitingSchemas::getAsInt)
                .description("Writer schema ids whose records wait for the schema registry to answer")
                .register(registry);
    }

    /**
     * A gauge of 1 whose tags say which model runs where, the Prometheus "info" idiom: the model new batches go
     * to, one series, replaced when the model is ({@code model.reload=watch}).
     */
    public synchronized void modelInfo(String name, String version, String sha256, String provider, String recipe) {
        if (modelInfo != null) {
            registry.remove(modelInfo);
        }
        modelInfo = Gauge.builder("labelstream.model.info", () -> 1).description("The model this instance runs")
                .tags("name", name, "version", version, "sha256", sha256, "provider", provider, "recipe", recipe)
                .register(registry);
    }

    /**
     * A shadow model's answer beside the primary's on the same image: whether their top-1 classes agree, and how
     * far the shadow's probability of the primary's top-1 class is from the primary's.
     */
    public void shadowCompared(String model, boolean top1Agrees, double top1ProbabilityDifference) {
        Shadow s = shadows.computeIfAbsent(model, Shadow::new);
        s.images.increment();
        if (top1Agrees) {
            s.agreements.increment();
        }
        s.difference.record(top1ProbabilityDifference);
    }

    /** A side model's (or shadow's) ONNX Runtime time on one batch. */
    public void sideInference(String model, double inferenceMs) {
        sideInference.computeIfAbsent(model, m -> Timer.builder("labelstream.side.inference")
                        .description("ONNX Runtime time of a side model on a batch").tag("model", m)
                        .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1))
                        .maximumExpectedValue(Duration.ofMinutes(2)).register(registry))
                .record((long) (inferenceMs * 1000), TimeUnit.MICROSECONDS);
    }

    /** One shadow model's comparison with the primary. */
    private final class Shadow {
        final Counter images;
        final Counter agreements;
        final DistributionSummary difference;

        Shadow(String model) {
            images = Counter.builder("labelstream.shadow.images").description("Images a shadow model labeled beside"
                    + " the primary").tag("model", model).register(registry);
            agreements = Counter.builder("labelstream.shadow.top1.agreements").description("Images on which a shadow"
                    + " model's top-1 class is the primary's").tag("model", model).register(registry);
            Gauge.builder("labelstream.shadow.top1.agreement.ratio", this,
                            s -> s.images.count() == 0 ? Double.NaN : s.agreements.count() / s.images.count())
                    .description("Share of images on which a shadow model's top-1 class is the primary's")
                    .tag("model", model).register(registry);
            difference = DistributionSummary.builder("labelstream.shadow.top1.probability.difference")
                    .description("Absolute difference between the shadow's and the primary's probability of the"
                            + " primary's top-1 class").tag("model", model).register(registry);
        }
    }

    /** A model reload: {@code loaded} (switched to it) or {@code refused} (the model in use stays). */
    public void modelReload(boolean loaded) {
        (loaded ? reloadsLoaded : reloadsRefused).increment();
    }

    public void labeled(double queueMs, long eventTimeMs, long now) {
        labeled.increment();
        queue.record((long) (queueMs * 1000), TimeUnit.MICROSECONDS);
        if (eventTimeMs > 0 && now >= eventTimeMs) {
            endToEnd.record(now - eventTimeMs, TimeUnit.MILLISECONDS);
        }
    }

    public void fromCache() {
        dedupHits.increment();
    }

    public void failed(FailureReason reason) {
        failed.get(reason).increment();
    }

    public void flagged(String rule) {
        flagged.computeIfAbsent(rule, r -> Counter.builder("labelstream.flagged")
                .description("Images a moderation rule fired on").tag("rule", r).register(registry)).increment();
    }

    public void batch(int images, double preprocessMs, double inferenceMs) {
        if (images == 0) {
            return;
        }
        batchSize.record(images);
        preprocess.record((long) (preprocessMs * 1000), TimeUnit.MICROSECONDS);
        inference.record((long) (inferenceMs * 1000), TimeUnit.MICROSECONDS);
    }
}
