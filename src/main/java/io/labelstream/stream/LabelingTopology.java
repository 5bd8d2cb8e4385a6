package io.labelstream.stream;

import io.labelstream.image.ReferenceFetcher;
import io.labelstream.model.LabelingEngine;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * The data path, in one place:
 * <pre>
 *   input topics ──► "batcher" (BatchingProcessor + changelogged "batch-buffer" store: every record, in order)
 *                       ├─► "labels"   sink ─► labels topic   (ImageLabels)
 *                       ├─► "flagged"  sink ─► flagged topic  (ImageLabels on which a moderation rule fired)
 *                       ├─► "failures" sink ─► failures topic (ImageFailure)
 *                       ├─► "rows"     sink ─► labels.flat.topic  (ImageLabelRow, when set)
 *                       └─► "ranks"    sink ─► labels.ranks.topic (ImageLabelRank, when set)
 * </pre>
 * Input keys and values stay raw bytes up to the batcher, so a record that is not valid Avro reaches the
 * failures topic with its exact bytes instead of stopping the application in a deserializer.
 */
public final class LabelingTopology {

    public static final String SOURCE = "input";
    public static final String BATCHER = "batcher";
    public static final String LABELS_SINK = "labels";
    public static final String FAILURES_SINK = "failures";
    public static final String FLAGGED_SINK = "flagged";
    /** Not prefixed "labels-": a side model's sink is, and a side model may be called anything. */
    public static final String ROWS_SINK = "rows";
    public static final String RANKS_SINK = "ranks";
    public static final String BUFFER_STORE = "batch-buffer";
    public static final String DEDUP_STORE = "dedup-cache";
    public static final String DEDUP_ORDER_STORE = "dedup-order";

    /** Content dedup: at most {@code maxEntries} per task, none older than {@code maxAgeMs}. */
    public record DedupOptions(long maxEntries, long maxAgeMs) {
    }

    /**
     * The topology's settings, parsed once.
     *
     * @param topics      what it reads and writes, each with its serde
     * @param fetcher     fetches images given by reference; null when no references are allowed
     * @param dedup       null when content dedup is off
     * @param maxInFlight batches a task keeps in the engine at once
     * @param tick        how often, while its buffer holds records, a task's wall-clock punctuation takes finished
     *                    work, starts due batches and emits
     * @param budget      what bounds the work inside one transaction
     * @param changelogRecords true: the buffer's changelog keeps each record's bytes; false: only where the record
     *                    is in its input topic, which a restore reads it back from ({@code buffer.changelog})
     */
    public record Options(Topics topics, ModerationRules moderation, ReferenceFetcher fetcher, DedupOptions dedup,
                          PipelineMetrics metrics, int maxBatchSize, long maxBatchDelayMs, int maxInFlight,
                          Duration tick, TransactionBudget budget, java.util.Set<String> shadowModels,
                          boolean changelogRecords) {

        public Options {
            shadowModels = java.util.Set.copyOf(shadowModels);
        }

        /** The changelog keeps offsets. */
        public Options(Topics topics, ModerationRules moderation, ReferenceFetcher fetcher, DedupOptions dedup,
                       PipelineMetrics metrics, int maxBatchSize, long maxBatchDelayMs, int maxInFlight,
                       Duration tick, TransactionBudget budget, java.util.Set<String> shadowModels) {
            this(topics, moderation, fetcher, dedup, metrics, maxBatchSize, maxBatchDelayMs, maxInFlight, tick, budget,
                    shadowModels, false);
        }

        /** No shadow models. */
        public Options(Topics topics, ModerationRules moderation, ReferenceFetcher fetcher, DedupOptions dedup,
                       PipelineMetrics metrics, int maxBatchSize, long maxBatchDelayMs, int maxInFlight,
                       Duration tick, TransactionBudget budget) {
            this(topics, moderation, fetcher, dedup, metrics, maxBatchSize, maxBatchDelayMs, maxInFlight, tick, budget,
                    java.util.Set.of());
        }

        /** No references, moderation or dedup; Kafka Streams' exactly-once transaction defaults. */
        public Options(List<String> inputTopics, String labelsTopic, String failuresTopic, int maxBatchSize,
                       long maxBatchDelayMs, int maxInFlight, Duration tick) {
            this(Topics.named(inputTopics, null, labelsTopic, failuresTopic, "image-flagged"), ModerationRules.none(),
                    null, null, PipelineMetrics.inMemory(), maxBatchSize, maxBatchDelayMs, maxInFlight, tick,
                    TransactionBudget.defaults(maxBatchSize));
        }
    }

    private LabelingTopology() {
    }

    public static Topology build(Options options, LabelingEngine engine) {
        return build(options, engine, StreamThreadWakeups.NONE);
    }

    /** @param wakeups how the batcher ends its stream thread's poll when it has work (see Pipeline) */
    public static Topology build(Options options, LabelingEngine engine, StreamThreadWakeups wakeups) {
        Topics topics = options.topics();
        Topology topology = new Topology();
        if (topics.inputPattern() != null) {
            topology.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), topics.inputPattern());
        } else {
            topology.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(),
                    topics.inputNames().toArray(String[]::new));
        }
        topology.addProcessor(BATCHER, () -> new BatchingProcessor(engine, topics.input().valueSerde(), options, wakeups),
                SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(BUFFER_STORE),
                        Serdes.Long(), AvroSerdes.bufferedRecord())
                // Cached: a record that is buffered and labeled between two commits never reaches the changelog;
                // only what is still buffered at a commit is logged (by default its offsets, see BatchBuffer).
                .withCachingEnabled()
                .withLoggingEnabled(Map.of()), BATCHER);
        if (options.dedup() != null) {
            topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DEDUP_STORE),
                    Serdes.String(), AvroSerdes.dedupEntry()).withLoggingEnabled(Map.of()), BATCHER);
            topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DEDUP_ORDER_STORE),
                    Serdes.Long(), Serdes.String()).withLoggingEnabled(Map.of()), BATCHER);
        }
        addSink(topology, LABELS_SINK, topics.labels());
        addSink(topology, FAILURES_SINK, topics.failures());
        addSink(topology, FLAGGED_SINK, topics.flagged());
        topics.sideLabels().forEach((model, topic) -> addSink(topology, sideLabelsSink(model), topic));
        if (topics.rows() != null) {
            addSink(topology, ROWS_SINK, topics.rows());
        }
        if (topics.ranks() != null) {
            addSink(topology, RANKS_SINK, topics.ranks());
        }
        return topology;
    }

    /** The sink of side model {@code model}'s labels. */
    static String sideLabelsSink(String model) {
        return LABELS_SINK + "-" + model;
    }

    /** The batcher forwards every output as a SpecificRecord; each sink writes its topic's own type. */
    @SuppressWarnings({"unchecked", "rawtypes"})
    private static void addSink(Topology topology, String name, Topic<?> topic) {
        topology.addSink(name, topic.name(), new ByteArraySerializer(), (Serializer) topic.valueSerde().serializer(),
                BATCHER);
    }
}
