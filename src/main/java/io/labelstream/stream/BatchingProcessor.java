package io.labelstream.stream;

import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.image.ReferenceFetcher;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.InlineImage;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.RecipeIdentity;
import io.labelstream.schema.RecordDecodeException;
import io.labelstream.schema.SourceCoordinates;
import io.labelstream.schema.Timings;
import io.labelstream.schema.Label;
import io.labelstream.schema.internal.BufferedRecord;
import io.labelstream.schema.internal.DedupEntry;
import org.apache.avro.specific.SpecificRecord;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * The heart of the pipeline. Each input record is checked and parked in the task's {@link BatchBuffer}; a batch
 * is taken from the buffer when it holds {@code max.batch.size} pending records, or when its oldest pending record
 * has waited {@code max.batch.delay.ms} (a wall-clock punctuator) and the batch would run at once (the task has
 * nothing in the engine, or a worker is idle), and handed to the {@link LabelingEngine}. Up to
 * {@code max.batches.in.flight} batches are in the engine at once (default 2), so the next batch is decoded while
 * the model runs the current one and the model does not wait for Kafka. Batches are emitted in the order they were taken, on the
 * stream thread; each record goes to exactly one place: {@link LabelingTopology#LABELS_SINK} or
 * {@link LabelingTopology#FAILURES_SINK}.
 *
 * <p>A record leaves the buffer only when its batch is emitted, and under exactly-once the output, the deletion
 * and the input offsets commit in one transaction: a record is never both labeled and still buffered, and a batch
 * still in the engine when the task is closed or crashes is labeled again from the buffer by its next owner.
 */
final class BatchingProcessor implements Processor<byte[], byte[], byte[], SpecificRecord> {

    private final LabelingEngine engine;
    private final AvroSerde<ImageEvent> events;
    private final ModerationRules moderation;
    private final ReferenceFetcher fetcher;
    private final LabelingTopology.DedupOptions dedupOptions;
    private final PipelineMetrics metrics;
    private DedupCache dedup;
    private final RecipeIdentity recipe;
    private final int maxBatchSize;
    private final long maxBatchDelayMs;
    private final int maxInFlight;
    private final Duration tick;

    private ProcessorContext<byte[], SpecificRecord> context;
    private BatchBuffer buffer;
    private final ArrayDeque<InFlightBatch> inFlight = new ArrayDeque<>();

    BatchingProcessor(LabelingEngine engine, AvroSerde<ImageEvent> events, ModerationRules moderation,
                      ReferenceFetcher fetcher, LabelingTopology.DedupOptions dedupOptions, PipelineMetrics metrics,
                      int maxBatchSize, long maxBatchDelayMs, int maxInFlight, Duration tick) {
        this.engine = engine;
        this.events = events;
        this.moderation = moderation;
        this.fetcher = fetcher;
        this.dedupOptions = dedupOptions;
        this.metrics = metrics;
        this.recipe = new RecipeIdentity(engine.recipe().name(), engine.recipeHash());
        this.maxBatchSize = maxBatchSize;
        this.maxBatchDelayMs = maxBatchDelayMs;
        this.maxInFlight = maxInFlight;
        this.tick = tick;
    }

    @Override
    public void init(ProcessorContext<byte[], SpecificRecord> context) {
        this.context = context;
        this.buffer = new BatchBuffer(context.getStateStore(LabelingTopology.BUFFER_STORE));
        if (dedupOptions != null) {
            // The cache answers only for the same bytes through the same model, recipe and moderation rules.
            String cacheContext = engine.model().identity().getSha256() + "|" + recipe.getHash() + "|" + moderation;
            dedup = new DedupCache(context.getStateStore(LabelingTopology.DEDUP_STORE),
                    context.getStateStore(LabelingTopology.DEDUP_ORDER_STORE), cacheContext,
                    dedupOptions.maxEntries(), dedupOptions.maxAgeMs());
            context.schedule(Duration.ofSeconds(30), PunctuationType.WALL_CLOCK_TIME, dedup::expire);
        }
        // Records restored from the changelog after a crash are already due, so the first tick takes them.
        context.schedule(tick, PunctuationType.WALL_CLOCK_TIME, now -> {
            emitCompleted();
            // A partial batch that has waited its delay goes at once if it would run at once; behind a busy
            // worker it would only queue, so it keeps filling until this task's batch in the engine is done.
            boolean wouldRunNow = inFlight.isEmpty() || engine.model().classifier().hasIdleWorker();
            if (wouldRunNow && buffer.oldestPendingWaited(now, maxBatchDelayMs)) {
                while (buffer.pending() > 0) {
                    submitNext(now);
                }
            }
        });
    }

    @Override
    public void process(Record<byte[], byte[]> record) {
        RecordMetadata meta = context.recordMetadata().orElseThrow();
        SourceCoordinates source = new SourceCoordinates(meta.topic(), meta.partition(), meta.offset());
        ImageEvent event;
        try {
            event = events.decode(record.value());
        } catch (RecordDecodeException e) {
            forwardFailure(record, Records.failure(null, e.reason(), e.getMessage(), source, record.key(),
                    record.value(), Records.toAvro(record.headers())));
            return;
        }
        Problem problem = Problem.of(event, fetcher != null);
        if (problem != null) {
            forwardFailure(record, Records.failure(event.getId(), problem.reason(), problem.message(), source,
                    record.key(), record.value(), Records.toAvro(record.headers())));
            return;
        }
        long now = context.currentSystemTimeMs();
        buffer.add(BufferedRecord.newBuilder()
                .setKey(record.key() == null ? null : java.nio.ByteBuffer.wrap(record.key()))
                .setValue(java.nio.ByteBuffer.wrap(record.value()))
                .setHeaders(Records.toAvro(record.headers()))
                .setSource(source)
                .setTimestamp(record.timestamp())
                .setBufferedAt(now)
                .build(), event);
        while (buffer.pending() >= maxBatchSize) {
            submitNext(now);
        }
        emitCompleted();
    }

    /**
     * Results of a task's batches still in the engine are dropped: the records are still in the buffer, so they
     * are labeled again by whoever owns the task next, and nothing was emitted for them.
     */
    @Override
    public void close() {
        // A batch the engine has not started yet is skipped; one that is running finishes, unused.
        inFlight.forEach(batch -> batch.result().cancel(false));
        inFlight.clear();
    }

    /** Emits, oldest first, every batch the engine has finished, stopping at the first one still running. */
    private void emitCompleted() {
        while (!inFlight.isEmpty() && inFlight.peek().result().isDone()) {
            emitOldest();
        }
    }

    /**
     * Takes the next batch of pending records, resolves what can be resolved on the stream thread (Avro, references,
     * the dedup cache) and hands the rest to the engine; then, if the task has {@code max.batches.in.flight}
     * batches in the engine, waits for the oldest and emits it (with 1, every batch is labeled before reading on).
     */
    private void submitNext(long now) {
        List<BatchBuffer.Entry> entries = buffer.takePending(maxBatchSize);
        List<BufferedRecord> records = new ArrayList<>(entries.size());
        List<ImageEvent> decoded = new ArrayList<>(entries.size());
        List<Failed> failed = new ArrayList<>();
        for (BatchBuffer.Entry entry : entries) {
            BufferedRecord r = entry.record();
            try {
                // Decoded at intake; only a record restored from the changelog has just its original bytes.
                decoded.add(entry.event() != null ? entry.event() : events.decode(Records.bytes(r.getValue())));
                records.add(r);
            } catch (RecordDecodeException e) {
                failed.add(new Failed(r, Records.failure(null, e.reason(), e.getMessage(), r)));
            }
        }
        fetchReferences(records, decoded, failed);
        List<byte[]> images = new ArrayList<>(records.size());
        for (ImageEvent event : decoded) {
            images.add(Records.bytes(((InlineImage) event.getImage()).getData()));
        }
        // Cache hits skip inference but are emitted in their place, so one partition's outputs keep its order.
        String[] cacheKeys = new String[images.size()];
        DedupEntry[] hits = new DedupEntry[images.size()];
        List<byte[]> toInfer = images;
        if (dedup != null) {
            toInfer = new ArrayList<>(images.size());
            for (int i = 0; i < images.size(); i++) {
                cacheKeys[i] = dedup.key(images.get(i));
                hits[i] = dedup.get(cacheKeys[i], now);
                if (hits[i] == null) {
                    toInfer.add(images.get(i));
                }
            }
        }
        CompletableFuture<LabelingEngine.BatchResult> result = toInfer.isEmpty()
                ? CompletableFuture.completedFuture(new LabelingEngine.BatchResult(List.of(), 0, 0, 0))
                : engine.submit(toInfer, maxBatchSize);
        inFlight.add(new InFlightBatch(entries, records, decoded, failed, cacheKeys, hits, now, result));
        while (inFlight.size() >= maxInFlight) {
            emitOldest();
        }
    }

    /**
     * Waits for the oldest batch in the engine, forwards its failures and labels in arrival order, and deletes its
     * records from the buffer.
     */
    private void emitOldest() {
        InFlightBatch batch = inFlight.peek();
        LabelingEngine.BatchResult result;
        try {
            result = batch.result().join();
        } catch (CompletionException e) {
            // The batch stays at the head, so its records are neither stranded nor overtaken by newer ones.
            throw e.getCause() instanceof RuntimeException r ? r : e;
        }
        inFlight.poll();
        batch.failed().forEach(f -> forwardFailure(f.record(), f.failure()));
        if (!batch.records().isEmpty()) {
            metrics.batch(result.inferred(), result.preprocessMs(), result.inferenceMs());
        }
        long now = batch.takenAt();
        Instant labeledAt = Instant.now();
        List<BufferedRecord> records = batch.records();
        List<ImageEvent> decoded = batch.decoded();
        DedupEntry[] hits = batch.hits();
        for (int i = 0, inferred = 0; i < records.size(); i++) {
            BufferedRecord r = records.get(i);
            String id = decoded.get(i).getId();
            if (hits[i] != null) {
                emitLabels(r, decoded.get(i), hits[i].getLabels(), hits[i].getFlags(), 0,
                        new Timings((double) (now - r.getBufferedAt()), 0.0, 0.0), labeledAt, true);
                metrics.fromCache();
                continue;
            }
            LabelingEngine.Outcome outcome = result.outcomes().get(inferred++);
            if (outcome instanceof LabelingEngine.Labeled labeled) {
                List<ModerationFlag> flags = moderation.evaluate(labeled.probabilities());
                emitLabels(r, decoded.get(i), labeled.labels(), flags, result.inferred(), new Timings(
                        (double) (now - r.getBufferedAt()), result.preprocessMs(), result.inferenceMs()), labeledAt,
                        false);
                if (dedup != null) {
                    dedup.put(batch.cacheKeys()[i], labeled.labels(), flags, now);
                }
            } else {
                LabelingEngine.Rejected rejected = (LabelingEngine.Rejected) outcome;
                forwardFailure(r, Records.failure(id, rejected.reason(), rejected.message(), r));
            }
        }
        buffer.remove(batch.entries());
    }

    /** A record that failed before inference; its failure is forwarded when its batch is emitted. */
    private record Failed(BufferedRecord record, ImageFailure failure) {
    }

    /**
     * A batch handed to the engine. {@code records}, {@code decoded}, {@code cacheKeys} and {@code hits} are
     * parallel; {@code entries} are every buffer entry the batch took, failed ones included.
     */
    private record InFlightBatch(List<BatchBuffer.Entry> entries, List<BufferedRecord> records,
                                 List<ImageEvent> decoded, List<Failed> failed, String[] cacheKeys,
                                 DedupEntry[] hits, long takenAt,
                                 CompletableFuture<LabelingEngine.BatchResult> result) {
    }

    private void emitLabels(BufferedRecord r, ImageEvent event, List<Label> labels, List<ModerationFlag> flags,
                            int batchSize, Timings timings, Instant labeledAt, boolean fromCache) {
        ImageLabels value = ImageLabels.newBuilder()
                .setId(event.getId())
                .setLabels(labels)
                .setModel(engine.model().identity())
                .setRecipe(recipe)
                .setFlags(flags)
                .setBatchSize(batchSize)
                .setTimings(timings)
                .setSource(r.getSource())
                .setLabeledAt(labeledAt)
                .setFromCache(fromCache)
                .build();
        Record<byte[], SpecificRecord> out = new Record<>(keyOf(r), value, r.getTimestamp(),
                Records.toKafka(r.getHeaders()));
        context.forward(out, LabelingTopology.LABELS_SINK);
        if (!flags.isEmpty()) {
            context.forward(out, LabelingTopology.FLAGGED_SINK);
            flags.forEach(f -> metrics.flagged(f.getRule()));
        }
        metrics.labeled(timings.getQueueMs(), event.getEventTime() == null ? 0 : event.getEventTime().toEpochMilli(),
                labeledAt.toEpochMilli());
    }

    /**
     * Replaces each by-reference image with the fetched bytes, all of the batch's references at once; a record
     * whose image cannot be fetched leaves the batch for {@code failed}.
     */
    private void fetchReferences(List<BufferedRecord> records, List<ImageEvent> decoded, List<Failed> failed) {
        List<Integer> positions = new ArrayList<>();
        List<ImageReference> references = new ArrayList<>();
        for (int i = 0; i < decoded.size(); i++) {
            if (decoded.get(i).getImage() instanceof ImageReference reference) {
                positions.add(i);
                references.add(reference);
            }
        }
        if (references.isEmpty()) {
            return;
        }
        List<ReferenceFetcher.Result> results = fetcher.fetchAll(references);
        for (int j = results.size() - 1; j >= 0; j--) {
            int i = positions.get(j);
            if (results.get(j) instanceof ReferenceFetcher.Fetched fetched) {
                ImageReference reference = references.get(j);
                decoded.get(i).setImage(new InlineImage(java.nio.ByteBuffer.wrap(fetched.bytes()),
                        reference.getContentType()));
            } else {
                ReferenceFetcher.Refused refused = (ReferenceFetcher.Refused) results.get(j);
                failed.add(new Failed(records.get(i), Records.failure(decoded.get(i).getId(), refused.reason(),
                        refused.message(), records.get(i))));
                records.remove(i);
                decoded.remove(i);
            }
        }
    }

    private void forwardFailure(Record<byte[], byte[]> input, ImageFailure failure) {
        metrics.failed(failure.getReason());
        context.forward(new Record<byte[], SpecificRecord>(input.key(), failure, input.timestamp(),
                input.headers()), LabelingTopology.FAILURES_SINK);
    }

    private void forwardFailure(BufferedRecord r, ImageFailure failure) {
        metrics.failed(failure.getReason());
        context.forward(new Record<byte[], SpecificRecord>(keyOf(r), failure, r.getTimestamp(),
                Records.toKafka(r.getHeaders())), LabelingTopology.FAILURES_SINK);
    }

    private static byte[] keyOf(BufferedRecord r) {
        return r.getKey() == null ? null : Records.bytes(r.getKey());
    }

    /** Why an event that decoded as Avro cannot be labeled as it stands, or null when it can. */
    record Problem(FailureReason reason, String message) {
        static Problem of(ImageEvent event, boolean referencesEnabled) {
            if (event.getId() == null || event.getId().isBlank()) {
                return new Problem(FailureReason.INVALID_EVENT, "event has an empty id");
            }
            if (event.getImage() instanceof ImageReference && !referencesEnabled) {
                return new Problem(FailureReason.REFERENCE_REFUSED, "event refers to its image by URI, but no "
                        + "references are allowed here (set fetch.file.roots or fetch.http.hosts)");
            }
            return null;
        }
    }
}
