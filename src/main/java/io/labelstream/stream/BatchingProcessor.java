package io.labelstream.stream;

import io.labelstream.model.BatchOutcome;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.ValueSerde;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModelIdentity;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.RecipeIdentity;
import io.labelstream.schema.Timings;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The batching stage of one task. Every input record becomes a {@link BatchItem} in the task's {@link BatchBuffer}
 * and moves through intake (decode and check, on the stream thread), preparation (fetch and hash, asynchronous),
 * a batch in the {@link LabelingEngine} (asynchronous), and out, from the head of the buffer, strictly in input
 * order. A batch is taken when {@code max.batch.size} items are ready, or when a ready item has waited
 * {@code max.batch.delay.ms} (a wall-clock punctuator) and the batch would run at once; up to
 * {@code max.batches.in.flight} batches are in the engine at once. Each record goes to exactly one place:
 * {@link LabelingTopology#LABELS_SINK} or {@link LabelingTopology#FAILURES_SINK}; and, when it was an image, each
 * side model's labels to that model's sink or a failure record naming the model.
 *
 * <p>The stream thread only decodes, reads and writes its stores and forwards records; it waits only when the
 * buffer is full, and then for a bounded time ({@link TransactionBudget}). A record leaves the buffer only when
 * its output is forwarded, and under exactly-once the output, the deletion and the input offsets commit in one
 * transaction: a record is never both labeled and still buffered, and whatever was in flight when the task was
 * closed or crashed goes through the stage again with its next owner.
 */
final class BatchingProcessor implements Processor<byte[], byte[], byte[], SpecificRecord> {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BatchingProcessor.class);

    private final LabelingEngine engine;
    private final ValueSerde<ImageEvent> events;
    private final LabelingTopology.Options options;
    private final RecipeIdentity recipe;
    /** Released whenever an asynchronous stage finishes, so a full buffer's wait ends as soon as there is news. */
    private final Semaphore progress = new Semaphore(0);
    private final ArrayDeque<InFlightBatch> inFlight = new ArrayDeque<>();

    private ProcessorContext<byte[], SpecificRecord> context;
    /** The context's wall-clock time last seen: Kafka Streams reads the clock once per task per round. */
    private long clockBase = Long.MIN_VALUE;
    /** Real time this task held its thread back since {@link #clockBase} was read. */
    private long heldSinceClockBaseNanos;
    private Intake intake;
    private TaskModel model;
    /** While the task waits to switch models, ready items at or after this sequence number wait too. */
    private long takeBefore = Long.MAX_VALUE;
    private DedupCache dedup;
    private BatchBuffer buffer;
    private StreamThreadWakeups.TaskWakeup wakeup = StreamThreadWakeups.TaskWakeup.INERT;
    /** The stage's punctuation, scheduled only while the buffer holds records: an idle task costs nothing. */
    private Cancellable stage;
    /** Under exactly-once, the wall-clock time by which what was forwarded last has been committed. */
    private long forwardedCommittedByMs = Long.MIN_VALUE;

    private final StreamThreadWakeups wakeups;

    /** A batch handed to the engine; its items are in input order, and its outcomes will be too. */
    private record InFlightBatch(List<BatchItem> items, long takenAt, CompletableFuture<BatchOutcome> result) {
    }

    BatchingProcessor(LabelingEngine engine, ValueSerde<ImageEvent> events, LabelingTopology.Options options,
                      StreamThreadWakeups wakeups) {
        this.engine = engine;
        this.events = events;
        this.options = options;
        this.wakeups = wakeups;
        this.recipe = new RecipeIdentity(engine.recipe().name(), engine.recipeHash());
    }

    @Override
    public void init(ProcessorContext<byte[], SpecificRecord> context) {
        this.context = context;
        wakeup = wakeups.forCurrentThread();
        model = new TaskModel(engine, options.moderation(), recipe.getHash());
        if (options.dedup() != null) {
            dedup = new DedupCache(context.getStateStore(LabelingTopology.DEDUP_STORE),
                    context.getStateStore(LabelingTopology.DEDUP_ORDER_STORE), options.dedup().maxEntries(),
                    options.dedup().maxAgeMs());
            context.schedule(Duration.ofSeconds(30), PunctuationType.WALL_CLOCK_TIME, dedup::expire);
        }
        intake = new Intake(events, new ImagePreparation(options.fetcher(), options.dedup() != null));
        buffer = new BatchBuffer(context.getStateStore(LabelingTopology.BUFFER_STORE), this::admit,
                options.changelogRecords(), wanted -> InputRecordReader.of(new StreamsConfig(context.appConfigs()),
                        context.applicationId() + "-" + context.taskId() + "-input-reader").read(wanted));
        // Records restored from the changelog are already due, so the first punctuation batches them.
        scheduleStageWhileBuffered();
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        buffer.add(admit(Records.buffered(record, context.recordMetadata().orElseThrow(), now())));
        scheduleStageWhileBuffered();
        advance(now(), false);
        holdBackWhileFull();
    }

    /**
     * Punctuators run after every task of the thread has had its records of a round, just before the commit, and
     * Kafka Streams counts every wall-clock punctuation as work to commit: so the stage punctuates only while it
     * has records, every tick, and between ticks its thread sleeps in its poll until {@link #wakeup} ends it.
     */
    private void scheduleStageWhileBuffered() {
        if (stage == null && buffer.size() > 0) {
            stage = context.schedule(options.tick(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
        }
    }

    private void punctuate(long timestamp) {
        wakeup.clear();
        options.budget().newRound();
        advance(now(), true);
        // The last punctuation is the one in the round that commits the last output.
        if (buffer.size() == 0 && System.currentTimeMillis() > forwardedCommittedByMs) {
            stage.cancel();
            stage = null;
        }
    }

    /**
     * What is still running is abandoned: its records are still in the buffer, so whoever owns the task next takes
     * them through the stage again, and nothing was emitted for them.
     */
    @Override
    public void close() {
        wakeup.close();
        if (model != null) {
            model.close(); // a batch still running holds the model itself
        }
        // A batch the engine has not started yet is skipped; one that is running finishes, unused.
        inFlight.forEach(batch -> batch.result().cancel(false));
        inFlight.clear();
        if (buffer == null) {
            return; // init failed before the buffer was restored
        }
        for (BatchItem item : buffer.items()) {
            if (item.pendingFuture() != null) {
                item.pendingFuture().cancel(false);
            }
        }
    }

    private BatchItem admit(BufferedRecord record) {
        return wakeWhenDone(intake.admit(record));
    }

    /** An item that waits for its writer schema or its image wakes the stream thread when the wait is over. */
    private BatchItem wakeWhenDone(BatchItem item) {
        if (item.pendingFuture() != null) {
            StreamThreadWakeups.TaskWakeup w = wakeup;
            item.pendingFuture().whenComplete((result, error) -> {
                progress.release();
                w.runNow();
            });
        }
        return item;
    }

    /** Items whose writer schema has come from the registry are decoded, in the stage they were in. */
    private void takeWriterSchemas() {
        for (BatchItem item : buffer.arrivedWriterSchemas()) {
            wakeWhenDone(intake.decode(item));
        }
    }

    /**
     * Everything the stream thread does for the stage, without waiting: take results, start batches, emit.
     *
     * @param partialBatches whether a due partial batch may start: only on the wall-clock tick (and a wait that
     *                       stands in for it), so records arriving between ticks still fill it
     */
    private void advance(long now, boolean partialBatches) {
        takeWriterSchemas();
        takeFinishedBatches();
        int emitted = buffer.evictWhile(BatchItem::isDone, this::emit);
        takeBefore = model.follow(buffer);
        takePreparations(now);
        startBatches(now, partialBatches);
        emitted += buffer.evictWhile(BatchItem::isDone, this::emit);
        askToRunWhenDue(now, emitted > 0);
    }

    /**
     * What the thread's poll must not sleep past: a partial batch's delay, and under exactly-once the commit that
     * makes forwarded output visible (Kafka Streams commits once {@code commit.interval.ms} has passed since its
     * last commit, and only between polls). Batches and fetches that finish wake the thread themselves.
     */
    private void askToRunWhenDue(long now, boolean forwarded) {
        long partial = msUntilPartialBatchMayStart(now);
        long wallNow = System.currentTimeMillis();
        if (partial != Long.MAX_VALUE) {
            wakeup.runAt(wallNow + Math.max(1, partial));
        }
        if (forwarded && options.budget().exactlyOnce()) {
            forwardedCommittedByMs = wallNow + options.budget().commitIntervalMs() + 1;
            wakeup.runAt(forwardedCommittedByMs);
        }
    }

    /** Prepared images join the ready ones, unless the dedup cache already knows them; refused ones are failed. */
    private void takePreparations(long now) {
        for (BatchItem item : buffer.finishedPreparations()) {
            if (dedup != null && item.sequence() >= takeBefore) {
                continue; // a cache answer now would be the old model's: it waits for the switch
            }
            BatchItem.Prepared prepared = item.preparation();
            if (prepared instanceof BatchItem.Refused refused) {
                item.complete(new BatchItem.Failed(refused.reason(), refused.message()));
                continue;
            }
            BatchItem.Image image = (BatchItem.Image) prepared;
            var hit = dedup == null ? null : dedup.get(DedupCache.key(image.contentDigest(), model.dedupContext()), now);
            if (hit != null) {
                model.hold();
                item.complete(new BatchItem.Cached(hit, now));
            } else {
                item.prepared(image.bytes(), image.contentDigest(), now);
            }
        }
    }

    private void takeFinishedBatches() {
        for (Iterator<InFlightBatch> it = inFlight.iterator(); it.hasNext(); ) {
            InFlightBatch batch = it.next();
            if (!batch.result().isDone()) {
                continue;
            }
            it.remove();
            BatchOutcome outcome;
            try {
                outcome = batch.result().join();
            } catch (CompletionException e) {
                // Not an inference failure (bisection handles those) but the engine's own: each image gets a
                // failure record with its bytes, for replay, rather than wedging the partition.
                log.error("The engine failed on a batch of {}; its images go to the failures topic", batch.items().size(),
                        e.getCause());
                batch.items().forEach(item -> item.complete(new BatchItem.Failed(FailureReason.MODEL_ERROR,
                        "the engine failed unexpectedly on this image's batch: " + e.getCause(), model.modelId())));
                continue;
            }
            options.metrics().batch(outcome.inferred(), outcome.preprocessMs(), outcome.inferenceMs());
            outcome.sides().forEach(side -> options.metrics().sideInference(side.name(), side.inferenceMs()));
            boolean clean = true;
            for (int i = 0; i < batch.items().size(); i++) {
                batch.items().get(i).labeledIn(outcome, i, batch.takenAt());
                ImageOutcome image = outcome.outcomes().get(i);
                if (image instanceof ImageOutcome.Labeled labeled) {
                    batch.items().get(i).complete(new BatchItem.Labeled(labeled, outcome, batch.takenAt()));
                } else {
                    ImageOutcome.Rejected rejected = (ImageOutcome.Rejected) image;
                    batch.items().get(i).complete(new BatchItem.Failed(rejected.reason(), rejected.message(),
                            rejected.reason() == FailureReason.MODEL_ERROR ? outcome.model() : null));
                    clean &= rejected.reason() != FailureReason.MODEL_ERROR;
                }
            }
            if (clean && outcome.inferred() == options.maxBatchSize()) {
                options.budget().observeFullBatch(outcome.inferenceMs());
            }
        }
    }

    /**
     * A full batch goes as soon as a slot in the engine is free. A partial batch that has waited its delay goes
     * only if it would run at once; behind a busy engine it would only queue, so it keeps filling meanwhile.
     */
    private void startBatches(long now, boolean partialBatches) {
        while (inFlight.size() < options.maxInFlight()) {
            int ready = buffer.countReady(takeBefore);
            boolean full = ready >= options.maxBatchSize();
            boolean due = partialBatches && msUntilPartialBatchMayStart(now) <= 0;
            if (!full && !due) {
                return;
            }
            List<BatchItem> items = buffer.nextReady(options.maxBatchSize(), takeBefore);
            CompletableFuture<BatchOutcome> result = engine.submit(model.hold(),
                    items.stream().map(BatchItem::image).toList(), options.maxBatchSize());
            items.forEach(BatchItem::inBatch);
            StreamThreadWakeups.TaskWakeup w = wakeup;
            result.whenComplete((outcome, error) -> {
                progress.release();
                w.runNow();
            });
            inFlight.add(new InFlightBatch(items, now, result));
        }
    }

    /**
     * When a partial batch may start: once its oldest ready item has waited {@code max.batch.delay.ms}, if the
     * engine would run it at once. The engine is shared by every task of the instance, and the one whose tick
     * comes first after a batch finishes would otherwise take the engine every time: so a task with nothing in
     * the engine queues its partial batch behind a busy one after one more typical batch time.
     *
     * @return milliseconds from {@code now}, ≤ 0 when it may start now; {@link Long#MAX_VALUE} when it may not
     *         until something changes (nothing ready, no free slot, this task's own batch still running)
     */
    private long msUntilPartialBatchMayStart(long now) {
        if (inFlight.size() >= options.maxInFlight() || buffer.countReady(takeBefore) == 0) {
            return Long.MAX_VALUE;
        }
        if (engine.hasIdleWorker()) {
            return buffer.msUntilReadyItemDue(now, options.maxBatchDelayMs(), takeBefore);
        }
        if (inFlight.isEmpty()) {
            return buffer.msUntilReadyItemDue(now, options.maxBatchDelayMs() + engine.typicalBatchTime().toMillis(),
                    takeBefore);
        }
        return Long.MAX_VALUE;
    }

    /**
     * A task whose buffer holds {@code max.batch.size × (max.batches.in.flight + 1)} records stops reading until
     * there is room, so memory stays bounded: for what is left of its thread's hold-back this round
     * ({@link TransactionBudget}), after which, under exactly-once, it asks for a commit, so the transaction this
     * wait kept open is closed before more work joins it. A head that waits for its fetch (freed by the fetch's
     * own time limit) or for its writer schema (freed when the registry answers) is not freed by waiting here, so
     * for it the task holds back only at four times that size, and the thread's other tasks keep moving meanwhile.
     */
    private void holdBackWhileFull() {
        int room = options.maxBatchSize() * (options.maxInFlight() + 1);
        if (buffer.size() < room || (buffer.headIsWaiting() && buffer.size() < 4 * room)) {
            return;
        }
        long deadline = System.nanoTime() + options.budget().holdBackLeftNanos();
        long heldNanos = 0;
        try {
            while (true) {
                progress.drainPermits();
                advance(now(), true);
                long left = deadline - System.nanoTime();
                if (buffer.size() < room || left <= 0) {
                    break;
                }
                // Wake for news from this task's batches or fetches, or when a partial batch may start. Other
                // tasks' batches finishing send no news here, but a task with nothing in the engine waits for
                // them at most its bound (msUntilPartialBatchMayStart); waking more often only takes CPU from
                // ONNX Runtime's threads, which on a full buffer are the ones that make room.
                long waitMs = msUntilPartialBatchMayStart(now());
                long wait = Math.min(left, TimeUnit.MILLISECONDS.toNanos(Math.max(1, waitMs))); // saturates
                long t0 = System.nanoTime();
                progress.tryAcquire(wait, TimeUnit.NANOSECONDS);
                long waited = System.nanoTime() - t0;
                heldNanos += waited;
                heldSinceClockBaseNanos += waited;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        options.budget().heldBack(heldNanos);
        if (heldNanos > 0 && options.budget().exactlyOnce()) {
            context.commit();
        }
    }

    /**
     * The wall-clock time: the context's, which Kafka Streams reads once per task per round, plus however long
     * this task has held its thread back since, so that delays and queue times stay true across a wait.
     */
    private long now() {
        long contextNow = context.currentSystemTimeMs();
        if (contextNow != clockBase) {
            clockBase = contextNow;
            heldSinceClockBaseNanos = 0;
        }
        return contextNow + TimeUnit.NANOSECONDS.toMillis(heldSinceClockBaseNanos);
    }

    private void emit(BatchItem item) {
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
            options.metrics().fromCache();
        } else {
            BatchItem.Labeled labeled = (BatchItem.Labeled) outcome;
            List<Label> labels = Records.labels(labeled.labels().top());
            List<ModerationFlag> flags = model.rules().evaluate(labeled.labels().probabilities());
            BatchOutcome batch = labeled.batch();
            emitLabels(item, labels, flags, batch.inferred(), new Timings(
                    (double) (labeled.takenAt() - r.getBufferedAt()), batch.preprocessMs(), batch.inferenceMs()), false);
            if (dedup != null) {
                dedup.put(DedupCache.key(item.contentDigest(), model.dedupContext()), labels, flags,
                        labeled.takenAt());
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
        BatchOutcome.SideOutcome model = side.model();
        if (side.outcome() instanceof ImageOutcome.Rejected rejected) {
            forwardFailure(r, Records.failure(item.id(), rejected.reason(), "side model " + model.name() + ": "
                    + rejected.message(), r, model.model()));
            return;
        }
        if (!(side.outcome() instanceof ImageOutcome.Labeled labeled)) {
            return; // not an image: the primary's failure record is its output
        }
        boolean shadow = options.shadowModels().contains(model.name());
        List<ModerationFlag> flags = shadow ? List.of()
                : this.model.rules().evaluate(model.name(), labeled.probabilities());
        BatchOutcome batch = item.batch();
        ImageLabels value = labelsRecord(item, Records.modelIdentity(model.model()),
                new RecipeIdentity(model.recipeName(), model.recipeHash()), Records.labels(labeled.top()), flags,
                batch.inferred(), new Timings((double) (item.batchTakenAt() - r.getBufferedAt()), batch.preprocessMs(),
                        model.inferenceMs()), false, Instant.now());
        forwardLabels(r, value, LabelingTopology.sideLabelsSink(model.name()));
        // A shadow has the primary's classes: start-up and every reload check it (EngineFactory.checkShadowClasses).
        if (shadow && item.outcome() instanceof BatchItem.Labeled primary) {
            int top1 = primary.labels().top().get(0).index();
            options.metrics().shadowCompared(model.name(), labeled.top().get(0).index() == top1,
                    Math.abs(primary.labels().probabilities()[top1] - labeled.probabilities()[top1]));
        }
    }

    private void emitLabels(BatchItem item, List<Label> labels, List<ModerationFlag> flags, int batchSize,
                            Timings timings, boolean fromCache) {
        BufferedRecord r = item.record();
        Instant labeledAt = Instant.now();
        ImageLabels value = labelsRecord(item, model.identity(), recipe, labels, flags, batchSize, timings,
                fromCache, labeledAt);
        forwardLabels(r, value, LabelingTopology.LABELS_SINK);
        var event = item.event();
        options.metrics().labeled(timings.getQueueMs(), event.getEventTime() == null ? 0
                : event.getEventTime().toEpochMilli(), labeledAt.toEpochMilli());
    }

    /** To {@code sink}, and to the flagged topic as well when a rule fired on it. */
    private void forwardLabels(BufferedRecord r, ImageLabels value, String sink) {
        Record<byte[], SpecificRecord> out = new Record<>(Records.key(r), value, r.getTimestamp(),
                Records.toKafka(Records.headers(r)));
        context.forward(out, sink);
        if (!value.getFlags().isEmpty()) {
            context.forward(out, LabelingTopology.FLAGGED_SINK);
            value.getFlags().forEach(f -> options.metrics().flagged(f.getRule()));
        }
    }

    private ImageLabels labelsRecord(BatchItem item, ModelIdentity identity, RecipeIdentity recipe, List<Label> labels,
                                     List<ModerationFlag> flags, int batchSize, Timings timings, boolean fromCache,
                                     Instant labeledAt) {
        BufferedRecord r = item.record();
        return ImageLabels.newBuilder()
                .setId(item.id())
                .setLabels(labels)
                .setModel(identity)
                .setRecipe(recipe)
                .setFlags(flags)
                .setBatchSize(batchSize)
                .setTimings(timings)
                .setSource(r.getSource())
                .setLabeledAt(labeledAt)
                .setFromCache(fromCache)
                .build();
    }

    private void forwardFailure(BufferedRecord r, ImageFailure failure) {
        options.metrics().failed(failure.getReason());
        context.forward(new Record<byte[], SpecificRecord>(Records.key(r), failure, r.getTimestamp(),
                Records.toKafka(Records.headers(r))), LabelingTopology.FAILURES_SINK);
    }
}
