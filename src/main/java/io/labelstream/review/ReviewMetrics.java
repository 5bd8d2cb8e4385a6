package io.labelstream.review;

import io.labelstream.schema.ImageReview;
import io.labelstream.schema.ReviewDecision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * What the console measures, for /metrics and its own page: the images waiting, the decisions by rule and decision,
 * and each rule's precision, confirmed / (confirmed + dismissed) (a relabel says the rule fired on the wrong class,
 * so it is left out of both). Each image's first decision counts once, whoever took it.
 */
public final class ReviewMetrics {

    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    /** Rule to its count per decision, in ReviewDecision order. */
    private final Map<String, AtomicLongArray> byRule = new ConcurrentHashMap<>();

    public ReviewMetrics(ReviewQueue queue) {
        Gauge.builder("labelstream_review_queue_depth", queue, ReviewQueue::depth)
                .description("Flagged images waiting for a decision").register(registry);
    }

    /** Counts an image's first decision. */
    public void count(ImageReview review) {
        String rule = review.getRule();
        AtomicLongArray counts = byRule.computeIfAbsent(rule, r -> {
            Gauge.builder("labelstream_review_rule_precision", () -> precision(r))
                    .description("Confirmed / (confirmed + dismissed) of the rule's reviewed flags")
                    .tag("rule", r).register(registry);
            return new AtomicLongArray(ReviewDecision.values().length);
        });
        counts.incrementAndGet(review.getDecision().ordinal());
        Counter.builder("labelstream_review_decisions").description("Decisions on flagged images")
                .tag("rule", rule).tag("decision", review.getDecision().name()).register(registry).increment();
    }

    /** The rule's precision, NaN before any confirm or dismiss. */
    public double precision(String rule) {
        AtomicLongArray counts = byRule.get(rule);
        if (counts == null) {
            return Double.NaN;
        }
        long confirmed = counts.get(ReviewDecision.CONFIRMED.ordinal());
        long dismissed = counts.get(ReviewDecision.DISMISSED.ordinal());
        return confirmed + dismissed == 0 ? Double.NaN : (double) confirmed / (confirmed + dismissed);
    }

    /** Rule to its count per decision, rules by name. */
    public Map<String, Map<ReviewDecision, Long>> counts() {
        Map<String, Map<ReviewDecision, Long>> out = new TreeMap<>();
        byRule.forEach((rule, counts) -> {
            Map<ReviewDecision, Long> row = new java.util.EnumMap<>(ReviewDecision.class);
            for (ReviewDecision d : ReviewDecision.values()) {
                row.put(d, counts.get(d.ordinal()));
            }
            out.put(rule, row);
        });
        return out;
    }

    /** Prometheus text format. */
    public String scrape() {
        return registry.scrape();
    }
}
