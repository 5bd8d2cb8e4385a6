package io.labelstream.stream;

import io.labelstream.model.BatchOutcome;
import io.labelstream.model.ImageOutcome;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.internal.BufferedRecord;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The batching stage of one task, apart from Kafka Streams: every input record becomes a {@link BatchItem} in the
 * task's {@link BatchBuffer} and moves through intake (decode and check), preparation (fetch and hash,
 * asynchronous), a batch in the engine (asynchronous), and out, from the head of the buffer, strictly in input
 * order. A batch is taken when {@link Policy#maxBatchSize} items are ready, or when a ready item has waited
 * {@link Policy#maxBatchDelayMs} and the batch would run at once; up to {@link Policy#maxInFlight} batches are in
 * the engine at once.
 *
 * <p>Nothing here reads a clock or sleeps: the caller passes the time in and decides when to call again
 * ({@link #msUntilPartialBatchMayStart}), and the stage tells it when asynchronous work has finished
 * ({@code onProgress}). Only the caller's thread calls it.
 */
final class BatchStage {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BatchStage.class);

    /**
     * @param maxBatchSize    images per batch ({@code max.batch.size})
     * @param maxBatchDelayMs how long a ready image waits for a partial batch to start ({@code max.batch.delay.ms})
     * @param maxInFlight     batches of this task in the engine at once ({@code max.batches.in.flight})
     */
    record Policy(int maxBatchSize, long maxBatchDelayMs, int maxInFlight) {

        /** Records the buffer holds before the task stops reading: the batches in flight and one filling. */
        int room() {
            return maxBatchSize * (maxInFlight + 1);
        }
    }

    /** A batch handed to the engine; its items are in input order, and its outcomes will be too. */
    private record InFlightBatch(List<BatchItem> items, long takenAt, CompletableFuture<BatchOutcome> result) {
    }

    private final Labeler labeler;
    private final Policy policy;
    private final TaskModel model;
    private final Intake intake;
    private final DedupCache dedup;
    private final PipelineMetrics metrics;
    private final TransactionBudget budget;
    private final Runnable onProgress;
    /** Released whenever an asynchronous stage finishes, so a wait for room ends as soon as there is news. */
    private final Semaphore progress = new Semaphore(0);
    private final ArrayDeque<InFlightBatch> inFlight = new ArrayDeque<>();
    private final BatchBuffer buffer;
    /** While the task waits to switch models, ready items at or after this sequence number wait too. */
    private long takeBefore = Long.MAX_VALUE;

    /**
     * @param buffer     makes the task's buffer, restored from its store, admitting each restored record through
     *                   the function it is given
     * @param dedup      the task's dedup cache; null when dedup is off
     * @param onProgress called, on any thread, whenever a fetch, a writer schema or a batch has finished
     */
    BatchStage(Labeler labeler, Policy policy, TaskModel model, Intake intake,
               java.util.function.Function<java.util.function.Function<BufferedRecord, BatchItem>, BatchBuffer> buffer,
               DedupCache dedup, PipelineMetrics metrics, TransactionBudget budget, Runnable onProgress) {
        this.labeler = labeler;
        this.policy = policy;
        this.model = model;
        this.intake = intake;
        this.dedup = dedup;
        this.metrics = metrics;
        this.budget = budget;
        this.onProgress = onProgress;
        this.buffer = buffer.apply(this::admit);
    }

    /** Takes {@code record} in: decoded and checked, it joins the buffer behind every record before it. */
    void add(BufferedRecord record) {
        buffer.add(admit(record));
    }

    int size() {
        return buffer.size();
    }

    TaskModel model() {
        return model;
    }

    /**
     * Whether the buffer is full: {@link Policy#room()} records, or four times that while its head waits for a fetch
     * (freed by the fetch's own time limit) or a writer schema (freed when the registry answers), which waiting for
     * room would not free.
     */
    boolean isFull() {
        int room = policy.room();
        return buffer.size() >= room && (!buffer.headIsWaiting() || buffer.size() >= 4 * room);
    }

    /** Whether the buffer holds fewer than {@link Policy#room()} records: a task held back while full reads again. */
    boolean hasRoom() {
        return buffer.size() < policy.room();
    }

    /**
     * Everything the stage does without waiting: takes results, starts batches, and hands every item whose turn has
     * come to {@code emit}, in input order.
     *
     * @param partialBatches whether a due partial batch may start: only on the wall-clock tick (and a wait that
     *                       stands in for it), so records arriving between ticks still fill it
     * @return how many items were emitted
     */
    int advance(long now, boolean partialBatches, Consumer<BatchItem> emit) {
        takeWriterSchemas();
        takeFinishedBatches();
        int emitted = buffer.evictWhile(BatchItem::isDone, emit);
        takeBefore = model.follow(buffer);
        takePreparations(now);
        startBatches(now, partialBatches);
        return emitted + buffer.evictWhile(BatchItem::isDone, emit);
    }

    /**
     * Waits up to {@code nanos} for news from this task's batches, fetches or writer schemas.
     *
     * @return false when the wait ended without news
     */
    boolean awaitProgress(long nanos) throws InterruptedException {
        return progress.tryAcquire(nanos, TimeUnit.NANOSECONDS);
    }

    /** Forgets the news so far: a wait that follows waits for what comes next. */
    void clearProgress() {
        progress.drainPermits();
    }

    /**
     * When a partial batch may start: once its oldest ready item has waited {@link Policy#maxBatchDelayMs}, if the
     * engine would run it at once. The engine is shared by every task of the instance, and the one whose tick comes
     * first after a batch finishes would otherwise take the engine every time: so a task with nothing in the engine
     * queues its partial batch behind a busy one after one more typical batch time.
     *
     * @return milliseconds from {@code now}, ≤ 0 when it may start now; {@link Long#MAX_VALUE} when it may not
     *         until something changes (nothing ready, no free slot, this task's own batch still running)
     */
    long msUntilPartialBatchMayStart(long now) {
        if (inFlight.size() >= policy.maxInFlight() || buffer.countReady(takeBefore) == 0) {
            return Long.MAX_VALUE;
        }
        if (labeler.hasIdleWorker()) {
            return buffer.msUntilReadyItemDue(now, policy.maxBatchDelayMs(), takeBefore);
        }
        if (inFlight.isEmpty()) {
            return buffer.msUntilReadyItemDue(now, policy.maxBatchDelayMs()
                    + labeler.typicalBatchTime().toMillis(), takeBefore);
        }
        return Long.MAX_VALUE;
    }

    /**
     * What is still running is abandoned: its records are still in the buffer, so whoever owns the task next takes
     * them through the stage again, and nothing was emitted for them.
     */
    void close() {
        model.close(); // a batch still running holds the model itself
        // A batch the engine has not started yet is skipped; one that is running finishes, unused.
        inFlight.forEach(batch -> batch.result().cancel(false));
        inFlight.clear();
        for (BatchItem item : buffer.items()) {
            if (item.pendingFuture() != null) {
                item.pendingFuture().cancel(false);
            }
        }
    }

    private BatchItem admit(BufferedRecord record) {
        return reportWhenDone(intake.admit(record));
    }

    /** An item that waits for its writer schema or its image reports progress when the wait is over. */
    private BatchItem reportWhenDone(BatchItem item) {
        if (item.pendingFuture() != null) {
            item.pendingFuture().whenComplete((result, error) -> progressed());
        }
        return item;
    }

    private void progressed() {
        progress.release();
        onProgress.run();
    }

    /** Items whose writer schema has come from the registry are decoded, in the stage they were in. */
    private void takeWriterSchemas() {
        for (BatchItem item : buffer.arrivedWriterSchemas()) {
            reportWhenDone(intake.decode(item));
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
            metrics.batch(outcome.inferred(), outcome.preprocessMs(), outcome.inferenceMs());
            outcome.sides().forEach(side -> metrics.sideInference(side.name(), side.inferenceMs()));
            boolean clean = true;
            for (int i = 0; i < batch.items().size(); i++) {
                BatchItem item = batch.items().get(i);
                item.labeledIn(outcome, i, batch.takenAt());
                if (outcome.outcomes().get(i) instanceof ImageOutcome.Labeled labeled) {
                    item.complete(new BatchItem.Inferred(labeled));
                } else {
                    ImageOutcome.Rejected rejected = (ImageOutcome.Rejected) outcome.outcomes().get(i);
                    item.complete(new BatchItem.Failed(rejected.reason(), rejected.message(),
                            rejected.reason() == FailureReason.MODEL_ERROR ? outcome.model() : null));
                    clean &= rejected.reason() != FailureReason.MODEL_ERROR;
                }
            }
            if (clean && outcome.inferred() == policy.maxBatchSize()) {
                budget.observeFullBatch(outcome.inferenceMs());
            }
        }
    }

    /**
     * A full batch goes as soon as a slot in the engine is free. A partial batch that has waited its delay goes
     * only if it would run at once; behind a busy engine it would only queue, so it keeps filling meanwhile.
     */
    private void startBatches(long now, boolean partialBatches) {
        while (inFlight.size() < policy.maxInFlight()) {
            int ready = buffer.countReady(takeBefore);
            boolean full = ready >= policy.maxBatchSize();
            boolean due = partialBatches && msUntilPartialBatchMayStart(now) <= 0;
            if (!full && !due) {
                return;
            }
            List<BatchItem> items = buffer.nextReady(policy.maxBatchSize(), takeBefore);
            CompletableFuture<BatchOutcome> result = labeler.submit(model.hold(),
                    items.stream().map(BatchItem::image).toList(), policy.maxBatchSize());
            items.forEach(BatchItem::inBatch);
            result.whenComplete((outcome, error) -> progressed());
            inFlight.add(new InFlightBatch(items, now, result));
        }
    }
}
