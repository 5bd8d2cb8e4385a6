package io.labelstream.stream;

import io.labelstream.model.BatchOutcome;
import io.labelstream.model.ImageOutcome;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModelIdentity;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.RecipeIdentity;
import io.labelstream.schema.Timings;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import java.time.Instant;
import java.util.List;
import java.util.Set;

/**
 * Where an item goes when it leaves the stage, and what it becomes there: its labels to
 * {@link LabelingTopology#LABELS_SINK} (and to {@link LabelingTopology#FLAGGED_SINK} when a moderation rule fires),
 * or its failure to {@link LabelingTopology#FAILURES_SINK}; and, when it was an image, each side model's labels to
 * that model's sink or a failure record naming the model. Every output keeps its input's key, timestamp and
 * headers. A labeled image's labels also fill the dedup cache. With flat outputs set, the primary's labels also go
 * as a row to {@link LabelingTopology#ROWS_SINK} and as one row per rank to {@link LabelingTopology#RANKS_SINK}, in
 * the same transaction as the labels.
 */
final class OutputRecords {

    private final ProcessorContext<byte[], SpecificRecord> context;
    private final TaskModel model;
    private final RecipeIdentity recipe;
    private final DedupCache dedup;
    private final PipelineMetrics metrics;
    private final Set<String> shadowModels;
    private final boolean rows;
    private final boolean ranks;

    /**
     * @param dedup null when dedup is off
     * @param rows  whether the topology has {@link LabelingTopology#ROWS_SINK}
     * @param ranks whether it has {@link LabelingTopology#RANKS_SINK}
     */
    OutputRecords(ProcessorContext<byte[], SpecificRecord> context, TaskModel model, RecipeIdentity recipe,
                  DedupCache dedup, PipelineMetrics metrics, Set<String> shadowModels, boolean rows, boolean ranks) {
        this.context = context;
        this.model = model;
        this.recipe = recipe;
        this.dedup = dedup;
        this.metrics = metrics;
        this.shadowModels = shadowModels;
        this.rows = rows;
        this.ranks = ranks;
    }

    void emit(BatchItem item) {
        emitPrimary(item);
        for (BatchItem.SideResult side : item.sideResults()) {
            emitSide(item, side);
        }
    }

    private void emitPrimary(BatchItem item) {
        BufferedRecord r = item.record();
        BatchItem.Outcome outcome = item.outcome();
        if (outcome instanceof BatchItem.Failed failed) {
            forwardFailure(r, Records.failure(item.id(), failed.reason(), failed.message(), r, failed.model()));
        } else if (outcome instanceof BatchItem.Cached cached) {
            emitLabels(item, cached.entry().getLabels(), cached.entry().getFlags(), 0,
                    new Timings((double) (cached.resolvedAt() - r.getBufferedAt()), 0.0, 0.0), true);
            metrics.fromCache();
        } else {
            BatchItem.Inferred labeled = (BatchItem.Inferred) outcome;
            List<Label> labels = Records.labels(labeled.labels().top(), labeled.labels().maps());
            List<ModerationFlag> flags = Records.explained(model.rules().evaluate(labeled.labels().probabilities()),
                    labels, labeled.labels().maps());
            BatchOutcome batch = item.batch();
            emitLabels(item, labels, flags, batch.inferred(), new Timings(
                    (double) (item.batchTakenAt() - r.getBufferedAt()), batch.preprocessMs(), batch.inferenceMs()),
                    false);
            if (dedup != null) {
                dedup.put(DedupCache.key(item.contentDigest(), model.dedupContext()), labels, flags,
                        item.batchTakenAt());
            }
        }
    }

    /**
     * A side model's output for the item: its labels on its own topic (and the flagged topic when one of its rules
     * fires), or a failure record naming it; in the same transaction as the primary's. A shadow never flags, and
     * is compared with the primary instead.
     */
    private void emitSide(BatchItem item, BatchItem.SideResult side) {
        BufferedRecord r = item.record();
        BatchOutcome.SideOutcome sideModel = side.model();
        if (side.outcome() instanceof ImageOutcome.Rejected rejected) {
            forwardFailure(r, Records.failure(item.id(), rejected.reason(), "side model " + sideModel.name() + ": "
                    + rejected.message(), r, sideModel.model()));
            return;
        }
        if (!(side.outcome() instanceof ImageOutcome.Labeled labeled)) {
            return; // not an image: the primary's failure record is its output
        }
        boolean shadow = shadowModels.contains(sideModel.name());
        List<Label> labels = Records.labels(labeled.top(), labeled.maps());
        List<ModerationFlag> flags = shadow ? List.of() : Records.explained(model.rules().evaluate(sideModel.name(),
                labeled.probabilities()), labels, labeled.maps());
        BatchOutcome batch = item.batch();
        ImageLabels value = labelsRecord(item, Records.modelIdentity(sideModel.model()),
                new RecipeIdentity(sideModel.recipeName(), sideModel.recipeHash()),
                labels, flags, batch.inferred(), new Timings((double) (item.batchTakenAt() - r.getBufferedAt()),
                        batch.preprocessMs(), sideModel.inferenceMs()), false, Instant.now());
        forwardLabels(r, value, LabelingTopology.sideLabelsSink(sideModel.name()));
        // A shadow has the primary's classes: start-up and every reload check it (EngineFactory.checkShadowClasses).
        if (shadow && item.outcome() instanceof BatchItem.Inferred primary) {
            int top1 = primary.labels().top().get(0).index();
            metrics.shadowCompared(sideModel.name(), labeled.top().get(0).index() == top1,
                    Math.abs(primary.labels().probabilities()[top1] - labeled.probabilities()[top1]));
        }
    }

    private void emitLabels(BatchItem item, List<Label> labels, List<ModerationFlag> flags, int batchSize,
                            Timings timings, boolean fromCache) {
        Instant labeledAt = Instant.now();
        ImageLabels value = labelsRecord(item, model.identity(), recipe, labels, flags, batchSize, timings,
                fromCache, labeledAt);
        Record<byte[], SpecificRecord> out = forwardLabels(item.record(), value, LabelingTopology.LABELS_SINK);
        var event = item.event();
        forwardRows(out, value, event);
        metrics.labeled(timings.getQueueMs(), event.getEventTime() == null ? 0 : event.getEventTime().toEpochMilli(),
                labeledAt.toEpochMilli());
    }

    /** To {@code sink}, and to the flagged topic as well when a rule fired on it; returns the record forwarded. */
    private Record<byte[], SpecificRecord> forwardLabels(BufferedRecord r, ImageLabels value, String sink) {
        Record<byte[], SpecificRecord> out = new Record<>(Records.key(r), value, r.getTimestamp(),
                Records.toKafka(Records.headers(r)));
        context.forward(out, sink);
        if (!value.getFlags().isEmpty()) {
            context.forward(out, LabelingTopology.FLAGGED_SINK);
            value.getFlags().forEach(f -> metrics.flagged(f.getRule()));
        }
        return out;
    }

    /**
     * To the flat outputs that are on, with the labels record's key, timestamp and headers ({@code labels}, as
     * forwarded): like every output, the input's.
     */
    private void forwardRows(Record<byte[], SpecificRecord> labels, ImageLabels value,
                             io.labelstream.schema.ImageEvent event) {
        if (rows) {
            context.forward(labels.withValue(FlatRows.row(value, event)), LabelingTopology.ROWS_SINK);
        }
        if (ranks) {
            for (var rank : FlatRows.ranks(value)) {
                context.forward(labels.withValue(rank), LabelingTopology.RANKS_SINK);
            }
        }
    }

    private static ImageLabels labelsRecord(BatchItem item, ModelIdentity identity, RecipeIdentity recipe,
                                            List<Label> labels, List<ModerationFlag> flags, int batchSize,
                                            Timings timings, boolean fromCache, Instant labeledAt) {
        return ImageLabels.newBuilder()
                .setId(item.id())
                .setLabels(labels)
                .setModel(identity)
                .setRecipe(recipe)
                .setFlags(flags)
                .setBatchSize(batchSize)
                .setTimings(timings)
                .setSource(item.record().getSource())
                .setLabeledAt(labeledAt)
                .setFromCache(fromCache)
                .build();
    }

    private void forwardFailure(BufferedRecord r, ImageFailure failure) {
        metrics.failed(failure.getReason());
        context.forward(new Record<byte[], SpecificRecord>(Records.key(r), failure, r.getTimestamp(),
                Records.toKafka(Records.headers(r))), LabelingTopology.FAILURES_SINK);
    }
}
