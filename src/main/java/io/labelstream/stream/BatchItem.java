package io.labelstream.stream;

import io.labelstream.model.BatchOutcome;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.ModelId;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.internal.BufferedRecord;
import io.labelstream.schema.internal.DedupEntry;

import java.util.concurrent.CompletableFuture;

/**
 * One input record on its way through the batching stage, from the buffer to its output: the buffered record,
 * the event, the image bytes, their digest for the dedup cache, and finally its {@link Outcome}. Its fields change only on the
 * stream thread; asynchronous stages hand their results over through futures that the stream thread collects.
 */
final class BatchItem {

    /** Where the item is: each stage moves it forward, never back. */
    enum Stage {
        /** Its writer schema is being fetched from the schema registry: it is decoded once that is known. */
        DECODING,
        /** Its image is being fetched and/or hashed for the dedup cache. */
        PREPARING,
        /** Its image is at hand and waits for a batch. */
        READY,
        /** In a batch in the engine. */
        IN_BATCH,
        /** Its outcome is known; it is emitted when every record before it in the buffer has been. */
        DONE
    }

    /** What becomes of the item: its labels (from the model or the cache) or its failure. */
    sealed interface Outcome permits Inferred, Cached, Failed {
    }

    /** Labeled by the model, in the batch the item holds ({@link #batch()}, {@link #batchTakenAt()}). */
    record Inferred(ImageOutcome.Labeled labels) implements Outcome {
    }

    /** @param resolvedAt when the cache answered */
    record Cached(DedupEntry entry, long resolvedAt) implements Outcome {
    }

    /** @param model the model whose inference failed on the image; null when no model was involved */
    record Failed(FailureReason reason, String message, ModelId model) implements Outcome {

        Failed(FailureReason reason, String message) {
            this(reason, message, null);
        }
    }

    /** What preparation made of the item's image. */
    sealed interface Prepared permits Image, Refused {
    }

    /** @param contentDigest SHA-256 of the bytes, for the dedup cache; null when dedup is off */
    record Image(byte[] bytes, String contentDigest) implements Prepared {
    }

    record Refused(FailureReason reason, String message) implements Prepared {
    }

    private final BufferedRecord record;
    /** Null while it is {@link Stage#DECODING}, and when the record is not a usable event (then it is DONE). */
    private ImageEvent event;
    private long sequence = -1;
    private Stage stage;
    /** While {@link Stage#DECODING}: completes when its writer schema is known, or known to be unknown. */
    private CompletableFuture<Void> writerSchema;
    private CompletableFuture<Prepared> preparation;
    private byte[] image;
    private String contentDigest;
    private long readyAt;
    private Outcome outcome;
    /** The batch it was labeled in and its place there, for the side models' outcomes; null if none. */
    private BatchOutcome batch;
    private int indexInBatch;
    private long batchTakenAt;

    private BatchItem(BufferedRecord record) {
        this.record = record;
    }

    /** A record just taken in, before intake has decoded it. */
    static BatchItem arrived(BufferedRecord record) {
        return new BatchItem(record);
    }

    static BatchItem failed(BufferedRecord record, FailureReason reason, String message) {
        return arrived(record).fail(reason, message);
    }

    /** Fails it at intake: the record is not a usable event, or its image cannot be used. */
    BatchItem fail(FailureReason reason, String message) {
        complete(new Failed(reason, message));
        return this;
    }

    /** Waits for its writer schema: intake decodes it again once {@code known} completes. */
    BatchItem awaitWriterSchema(CompletableFuture<Void> known) {
        this.writerSchema = known;
        this.stage = Stage.DECODING;
        return this;
    }

    /** True when it waits for a writer schema that has arrived: intake can decode it now. */
    boolean writerSchemaArrived() {
        return stage == Stage.DECODING && writerSchema.isDone();
    }

    /** Decoded: the event it carries. */
    BatchItem decoded(ImageEvent event) {
        this.event = event;
        this.writerSchema = null;
        return this;
    }

    /** Its image is the event's own: it is ready for a batch at once. */
    BatchItem ready(byte[] image) {
        this.image = image;
        this.stage = Stage.READY;
        this.readyAt = record.getBufferedAt();
        return this;
    }

    /** Its image is being fetched or hashed. */
    BatchItem preparing(CompletableFuture<Prepared> preparation) {
        this.preparation = preparation;
        this.stage = Stage.PREPARING;
        return this;
    }

    BufferedRecord record() {
        return record;
    }

    /** The event's id, or null when the record is not a usable event. */
    String id() {
        return event == null ? null : event.getId();
    }

    ImageEvent event() {
        return event;
    }

    /** The item's key in the buffer store, given when it enters the buffer. */
    long sequence() {
        return sequence;
    }

    void sequence(long sequence) {
        this.sequence = sequence;
    }

    Stage stage() {
        return stage;
    }

    boolean isDone() {
        return stage == Stage.DONE;
    }

    /** True when the item waits for preparation that has finished: the stream thread can take its result. */
    boolean preparationFinished() {
        return stage == Stage.PREPARING && preparation.isDone();
    }

    /** The finished preparation's result; call after {@link #preparationFinished()}. */
    Prepared preparation() {
        return preparation.join();
    }

    /** What it waits for, fetching its writer schema or preparing its image; null when it waits for neither. */
    CompletableFuture<?> pendingFuture() {
        return stage == Stage.DECODING ? writerSchema : stage == Stage.PREPARING ? preparation : null;
    }

    /** Its image is at hand since {@code now}: it waits for a batch. */
    void prepared(byte[] bytes, String digest, long now) {
        this.image = bytes;
        this.contentDigest = digest;
        this.stage = Stage.READY;
        this.readyAt = now;
        this.preparation = null;
    }

    /**
     * When it became ready: a batch's delay counts from here, so images that took a while to fetch are still
     * batched together rather than each going at once.
     */
    long readyAt() {
        return readyAt;
    }

    byte[] image() {
        return image;
    }

    /** SHA-256 of the image's bytes, for the dedup cache; null when dedup is off. */
    String contentDigest() {
        return contentDigest;
    }

    void inBatch() {
        stage = Stage.IN_BATCH;
    }

    void complete(Outcome result) {
        this.outcome = result;
        this.stage = Stage.DONE;
        this.preparation = null;
        this.writerSchema = null;
        // The bytes are no longer needed; the buffered record keeps the original for the changelog and failures.
        this.image = null;
    }

    Outcome outcome() {
        return outcome;
    }

    /** It went through {@code batch} at {@code index}: the side models' outcomes for it are there too. */
    void labeledIn(BatchOutcome batch, int index, long takenAt) {
        this.batch = batch;
        this.indexInBatch = index;
        this.batchTakenAt = takenAt;
    }

    /** The batch it went through; null if none. */
    BatchOutcome batch() {
        return batch;
    }

    /** When that batch was taken. */
    long batchTakenAt() {
        return batchTakenAt;
    }

    /** Each side model's outcome for this item (null entries: not an image); empty when it was in no batch. */
    java.util.List<SideResult> sideResults() {
        if (batch == null || batch.sides().isEmpty()) {
            return java.util.List.of();
        }
        java.util.List<SideResult> results = new java.util.ArrayList<>(batch.sides().size());
        for (BatchOutcome.SideOutcome side : batch.sides()) {
            results.add(new SideResult(side, side.outcomes().get(indexInBatch)));
        }
        return results;
    }

    /** @param outcome null when the image was not an image the models could read (the primary's failure says) */
    record SideResult(BatchOutcome.SideOutcome model, ImageOutcome outcome) {
    }
}
