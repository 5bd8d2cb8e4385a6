package io.labelstream.stream;

import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.RecipeIdentity;
import io.labelstream.schema.ValueSerde;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * The batching stage of one task as a Kafka Streams processor: an adapter over {@link BatchStage}, which holds the
 * policy. It gives the stage its records, the time and its stores, runs it on the stream thread's rounds and
 * wall-clock punctuation, holds the thread back while the stage is full, and hands what leaves the stage to
 * {@link OutputRecords}. Each record goes to exactly one place: {@link LabelingTopology#LABELS_SINK} or
 * {@link LabelingTopology#FAILURES_SINK}; and, when it was an image, each side model's labels to that model's sink
 * or a failure record naming the model.
 *
 * <p>The stream thread only decodes, reads and writes its stores and forwards records; it waits only when the
 * buffer is full, and then for a bounded time ({@link TransactionBudget}). A record leaves the buffer only when
 * its output is forwarded, and under exactly-once the output, the deletion and the input offsets commit in one
 * transaction: a record is never both labeled and still buffered, and whatever was in flight when the task was
 * closed or crashed goes through the stage again with its next owner.
 */
final class BatchingProcessor implements Processor<byte[], byte[], byte[], SpecificRecord> {

    private final LabelingEngine engine;
    private final ValueSerde<ImageEvent> events;
    private final LabelingTopology.Options options;
    private final StreamThreadWakeups wakeups;

    private ProcessorContext<byte[], SpecificRecord> context;
    private BatchStage stage;
    private OutputRecords outputs;
    private StreamThreadWakeups.TaskWakeup wakeup = StreamThreadWakeups.TaskWakeup.INERT;
    /** The context's wall-clock time last seen: Kafka Streams reads the clock once per task per round. */
    private long clockBase = Long.MIN_VALUE;
    /** Real time this task held its thread back since {@link #clockBase} was read. */
    private long heldSinceClockBaseNanos;
    /** The stage's punctuation, scheduled only while the buffer holds records: an idle task costs nothing. */
    private Cancellable punctuation;
    /** Under exactly-once, the wall-clock time by which what was forwarded last has been committed. */
    private long forwardedCommittedByMs = Long.MIN_VALUE;

    BatchingProcessor(LabelingEngine engine, ValueSerde<ImageEvent> events, LabelingTopology.Options options,
                      StreamThreadWakeups wakeups) {
        this.engine = engine;
        this.events = events;
        this.options = options;
        this.wakeups = wakeups;
    }

    @Override
    public void init(ProcessorContext<byte[], SpecificRecord> context) {
        this.context = context;
        wakeup = wakeups.forCurrentThread();
        RecipeIdentity recipe = new RecipeIdentity(engine.recipe().name(), engine.recipeHash());
        Labeler labeler = new EngineLabeler(engine);
        TaskModel model = new TaskModel(labeler, options.moderation(), recipe.getHash());
        DedupCache dedup = null;
        if (options.dedup() != null) {
            dedup = new DedupCache(context.getStateStore(LabelingTopology.DEDUP_STORE),
                    context.getStateStore(LabelingTopology.DEDUP_ORDER_STORE), options.dedup().maxEntries(),
                    options.dedup().maxAgeMs());
            context.schedule(Duration.ofSeconds(30), PunctuationType.WALL_CLOCK_TIME, dedup::expire);
        }
        Intake intake = new Intake(events, new ImagePreparation(options.fetcher(), options.dedup() != null));
        StreamThreadWakeups.TaskWakeup w = wakeup;
        stage = new BatchStage(labeler, new BatchStage.Policy(options.maxBatchSize(), options.maxBatchDelayMs(),
                options.maxInFlight()), model, intake, admit -> new BatchBuffer(
                context.getStateStore(LabelingTopology.BUFFER_STORE), admit, options.changelogRecords(),
                wanted -> InputRecordReader.of(new StreamsConfig(context.appConfigs()),
                        context.applicationId() + "-" + context.taskId() + "-input-reader").read(wanted)),
                dedup, options.metrics(), options.budget(), w::runNow);
        outputs = new OutputRecords(context, model, recipe, dedup, options.metrics(), options.shadowModels(),
                options.topics().rows() != null, options.topics().ranks() != null);
        // Records restored from the changelog are already due, so the first punctuation batches them.
        punctuateWhileBuffered();
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        stage.add(Records.buffered(record, context.recordMetadata().orElseThrow(), now()));
        punctuateWhileBuffered();
        advance(now(), false);
        holdBackWhileFull();
    }

    /**
     * Punctuators run after every task of the thread has had its records of a round, just before the commit, and
     * Kafka Streams counts every wall-clock punctuation as work to commit: so the stage punctuates only while it
     * has records, every tick, and between ticks its thread sleeps in its poll until {@link #wakeup} ends it.
     */
    private void punctuateWhileBuffered() {
        if (punctuation == null && stage.size() > 0) {
            punctuation = context.schedule(options.tick(), PunctuationType.WALL_CLOCK_TIME, this::punctuate);
        }
    }

    private void punctuate(long timestamp) {
        wakeup.clear();
        options.budget().newRound();
        advance(now(), true);
        // The last punctuation is the one in the round that commits the last output.
        if (stage.size() == 0 && System.currentTimeMillis() > forwardedCommittedByMs) {
            punctuation.cancel();
            punctuation = null;
        }
    }

    @Override
    public void close() {
        wakeup.close();
        if (stage != null) { // null when init failed before the buffer was restored
            stage.close();
        }
    }

    /**
     * Runs the stage, then asks the thread to run again when it is due: a partial batch's delay, and under
     * exactly-once the commit that makes forwarded output visible (Kafka Streams commits once
     * {@code commit.interval.ms} has passed since its last commit, and only between polls). Batches and fetches
     * that finish wake the thread themselves.
     */
    private void advance(long now, boolean partialBatches) {
        int forwarded = stage.advance(now, partialBatches, outputs::emit);
        long partial = stage.msUntilPartialBatchMayStart(now);
        long wallNow = System.currentTimeMillis();
        if (partial != Long.MAX_VALUE) {
            wakeup.runAt(wallNow + Math.max(1, partial));
        }
        if (forwarded > 0 && options.budget().exactlyOnce()) {
            forwardedCommittedByMs = wallNow + options.budget().commitIntervalMs() + 1;
            wakeup.runAt(forwardedCommittedByMs);
        }
    }

    /**
     * A full stage stops reading until there is room, so memory stays bounded: for what is left of its thread's
     * hold-back this round ({@link TransactionBudget}), after which, under exactly-once, it asks for a commit, so
     * the transaction this wait kept open is closed before more work joins it. Other tasks' batches finishing send
     * no news here, but a task with nothing in the engine waits for them at most its bound
     * ({@link BatchStage#msUntilPartialBatchMayStart}); waking more often only takes CPU from ONNX Runtime's
     * threads, which on a full buffer are the ones that make room.
     */
    private void holdBackWhileFull() {
        if (!stage.isFull()) {
            return;
        }
        long deadline = System.nanoTime() + options.budget().holdBackLeftNanos();
        long heldNanos = 0;
        try {
            while (true) {
                stage.clearProgress();
                advance(now(), true);
                long left = deadline - System.nanoTime();
                if (stage.hasRoom() || left <= 0) {
                    break;
                }
                long waitMs = stage.msUntilPartialBatchMayStart(now());
                long wait = Math.min(left, TimeUnit.MILLISECONDS.toNanos(Math.max(1, waitMs))); // saturates
                long t0 = System.nanoTime();
                stage.awaitProgress(wait);
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
}
