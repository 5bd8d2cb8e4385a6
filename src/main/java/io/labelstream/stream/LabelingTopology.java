package io.labelstream.stream;

import io.labelstream.image.ReferenceFetcher;
import io.labelstream.model.LabelingEngine;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.AvroSerdes;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.state.Stores;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The data path, in one place:
 * <pre>
 *   input topics ──► "batcher" (BatchingProcessor + changelogged "batch-buffer" store: every record, in order)
 *                       ├─► "labels"   sink ─► labels topic   (ImageLabels)
 *                       ├─► "flagged"  sink ─► flagged topic  (ImageLabels on which a moderation rule fired)
 *                       └─► "failures" sink ─► failures topic (ImageFailure)
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
    public static final String BUFFER_STORE = "batch-buffer";
    public static final String DEDUP_STORE = "dedup-cache";
    public static final String DEDUP_ORDER_STORE = "dedup-order";

    /** Content dedup: at most {@code maxEntries} per task, none older than {@code maxAgeMs}. */
    public record DedupOptions(long maxEntries, long maxAgeMs) {
    }

    /**
     * The topology's settings, parsed once.
     *
     * @param inputPattern when set, replaces {@code inputTopics}
     * @param fetcher      fetches images given by reference; null when no references are allowed
     * @param dedup        null when content dedup is off
     * @param maxInFlight  batches a task keeps in the engine at once
     * @param tick         how often the wall-clock punctuator takes finished work, starts due batches and emits
     * @param budget       what bounds the work inside one transaction
     */
    public record Options(List<String> inputTopics, Pattern inputPattern, String labelsTopic, String failuresTopic,
                          String flaggedTopic, ModerationRules moderation, ReferenceFetcher fetcher,
                          DedupOptions dedup, PipelineMetrics metrics, int maxBatchSize, long maxBatchDelayMs,
                          int maxInFlight, Duration tick, TransactionBudget budget) {

        /** No references, moderation or dedup; Kafka Streams' exactly-once transaction defaults. */
        public Options(List<String> inputTopics, String labelsTopic, String failuresTopic, int maxBatchSize,
                       long maxBatchDelayMs, int maxInFlight, Duration tick) {
            this(inputTopics, null, labelsTopic, failuresTopic, "image-flagged", ModerationRules.none(), null, null,
                    PipelineMetrics.inMemory(), maxBatchSize, maxBatchDelayMs, maxInFlight, tick,
                    TransactionBudget.defaults(maxBatchSize));
        }
    }

    private LabelingTopology() {
    }

    public static Topology build(Options options, LabelingEngine engine) {
        var events = AvroSerdes.imageEvent();
        AvroSerde<?> labels = AvroSerdes.imageLabels();
        AvroSerde<?> failures = AvroSerdes.imageFailure();
        Topology topology = new Topology();
        if (options.inputPattern() != null) {
            topology.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(), options.inputPattern());
        } else {
            topology.addSource(SOURCE, new ByteArrayDeserializer(), new ByteArrayDeserializer(),
                    options.inputTopics().toArray(String[]::new));
        }
        topology.addProcessor(BATCHER, () -> new BatchingProcessor(engine, events, options), SOURCE);
        topology.addStateStore(Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(BUFFER_STORE),
                        org.apache.kafka.common.serialization.Serdes.Long(), AvroSerdes.bufferedRecord())
                // Cached: a record that is buffered and labeled between two commits never writes its image bytes
                // to the changelog; only what is still buffered at a commit is logged.
                .withCachingEnabled()
                .withLoggingEnabled(Map.of()), BATCHER);
        if (options.dedup() != null) {
            topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DEDUP_STORE),
                    org.apache.kafka.common.serialization.Serdes.String(), AvroSerdes.dedupEntry())
                    .withLoggingEnabled(Map.of()), BATCHER);
            topology.addStateStore(Stores.keyValueStoreBuilder(Stores.persistentKeyValueStore(DEDUP_ORDER_STORE),
                    org.apache.kafka.common.serialization.Serdes.Long(),
                    org.apache.kafka.common.serialization.Serdes.String()).withLoggingEnabled(Map.of()), BATCHER);
        }
        topology.addSink(LABELS_SINK, options.labelsTopic(), new ByteArraySerializer(), avroValues(labels), BATCHER);
        topology.addSink(FAILURES_SINK, options.failuresTopic(), new ByteArraySerializer(), avroValues(failures),
                BATCHER);
        topology.addSink(FLAGGED_SINK, options.flaggedTopic(), new ByteArraySerializer(), avroValues(labels), BATCHER);
        return topology;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Serializer<SpecificRecord> avroValues(AvroSerde<?> serde) {
        return (Serializer) serde.serializer();
    }
}
