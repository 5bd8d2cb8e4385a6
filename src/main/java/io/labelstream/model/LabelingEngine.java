package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.Label;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Encoded images in, top-k labels out: decode and preprocess the batch's images in parallel on a bounded pool,
 * each straight into its slot of the batch tensor; one ONNX Runtime call for the batch; then probabilities and
 * top-k per image. Knows nothing of Kafka. An image that cannot be decoded is rejected on its own; it never
 * fails its neighbours.
 *
 * <p>Thread-safe; each calling thread gets its own batch tensor ({@link #threadBatch}). {@link #submit} runs a
 * batch on the engine's own batch threads instead, so a caller can decode the next batch while the model is busy
 * with this one: two batch threads per inference worker keep every worker fed.
 */
public final class LabelingEngine implements AutoCloseable {

    private final LoadedModel model;
    private final ImagePreprocessor preprocessor;
    private final int topK;
    private final Scores.OutputKind outputKind;
    private final ExecutorService pool;
    private final int poolThreads;
    private final ExecutorService batchThreads;
    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LabelingEngine.class);

    private final ThreadLocal<TensorBatch> threadBatches = new ThreadLocal<>();
    /** Rarely used: a second tensor for re-running parts of a batch whose inference failed. */
    private final ThreadLocal<TensorBatch> isolationBatches = new ThreadLocal<>();
    private final ThreadLocal<float[]> scratch;

    /**
     * @param preprocessThreads threads decoding and preprocessing a batch's images at once; 1 runs them on the
     *                          caller's thread
     */
    public LabelingEngine(LoadedModel model, ImagePreprocessor preprocessor, int topK, Scores.OutputKind outputKind,
                          int preprocessThreads) {
        ModelInput input = model.classifier().input();
        PreprocessRecipe recipe = preprocessor.recipe();
        if (recipe.cropHeight() != input.height() || recipe.cropWidth() != input.width()) {
            throw new IllegalArgumentException("recipe " + recipe.name() + " makes " + recipe.cropWidth() + "×"
                    + recipe.cropHeight() + " images but the model's input '" + input.name() + "' is "
                    + input.width() + "×" + input.height());
        }
        if (preprocessor.layout() != input.layout()) {
            throw new IllegalArgumentException("preprocessor writes " + preprocessor.layout() + " but the model's input '"
                    + input.name() + "' is " + input.layout());
        }
        this.model = model;
        this.preprocessor = preprocessor;
        this.topK = Math.min(topK, model.classifier().classes());
        this.outputKind = outputKind;
        this.poolThreads = Math.max(1, preprocessThreads);
        AtomicInteger counter = new AtomicInteger();
        this.pool = poolThreads == 1 ? null : Executors.newFixedThreadPool(poolThreads, r -> {
            Thread t = new Thread(r, "labelstream-preprocess-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        AtomicInteger batchCounter = new AtomicInteger();
        this.batchThreads = Executors.newFixedThreadPool(2 * model.classifier().workers(), r -> {
            Thread t = new Thread(r, "labelstream-batch-" + batchCounter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        int values = input.valuesPerImage();
        this.scratch = ThreadLocal.withInitial(() -> new float[values]);
    }

    public LoadedModel model() {
        return model;
    }

    public PreprocessRecipe recipe() {
        return preprocessor.recipe();
    }

    /** Identifies the preprocessing in output records: see {@link ImagePreprocessor#recipeHash()}. */
    public String recipeHash() {
        return preprocessor.recipeHash();
    }

    /**
     * The calling thread's batch tensor, allocated on first use. A stream thread runs its tasks one at a time,
     * so its tasks share one tensor instead of each holding its own.
     */
    public TensorBatch threadBatch(int maxBatchSize) {
        return atLeast(threadBatches, maxBatchSize);
    }

    private TensorBatch atLeast(ThreadLocal<TensorBatch> holder, int capacity) {
        TensorBatch current = holder.get();
        if (current == null || current.capacity() < capacity) {
            current = model.classifier().allocateBatch(capacity);
            holder.set(current);
        }
        return current;
    }

    /** One image's result: labels, or the reason it was not labeled. */
    public sealed interface Outcome permits Labeled, Rejected {
    }

    /** @param probabilities every class's probability, for rules that look beyond the top k */
    public record Labeled(List<Label> labels, float[] probabilities) implements Outcome {
    }

    public record Rejected(FailureReason reason, String message) implements Outcome {
    }

    /**
     * @param outcomes     one per input image, in input order
     * @param inferred     how many images went through the model
     * @param preprocessMs wall time of decode + preprocess for the batch
     * @param inferenceMs  wall time of the ONNX Runtime call(s)
     */
    public record BatchResult(List<Outcome> outcomes, int inferred, double preprocessMs, double inferenceMs) {
    }

    /**
     * Labels a batch on one of the engine's batch threads, each of which has its own tensor of
     * {@code maxBatchSize} images. Batches submitted together are decoded and inferred in an overlapped fashion:
     * while one is in ONNX Runtime, the next is being decoded.
     */
    public CompletableFuture<BatchResult> submit(List<byte[]> images, int maxBatchSize) {
        return CompletableFuture.supplyAsync(() -> label(images, threadBatch(maxBatchSize)), batchThreads);
    }

    public BatchResult label(List<byte[]> images) {
        return label(images, threadBatch(images.size()));
    }

    public BatchResult label(List<byte[]> images, TensorBatch batch) {
        if (images.size() > batch.capacity()) {
            throw new IllegalArgumentException("batch of " + images.size() + " exceeds the tensor's " + batch.capacity());
        }
        long t0 = System.nanoTime();
        Outcome[] outcomes = preprocessAll(images, batch);
        // Close the gaps rejected images left, so the model sees a dense batch: slot i → image slotOwner[i].
        int[] slotOf = new int[images.size()];
        int slots = 0;
        for (int i = 0; i < images.size(); i++) {
            if (outcomes[i] == null) {
                if (slots != i) {
                    batch.move(i, slots);
                }
                slotOf[i] = slots++;
            }
        }
        long t1 = System.nanoTime();
        int classes = model.classifier().classes();
        float[] raw = new float[slots * classes];
        String[] modelErrors = new String[slots];
        if (slots > 0) {
            int dense = slots;
            try {
                model.classifier().onOneWorker(session -> {
                    try {
                        System.arraycopy(session.run(batch, dense), 0, raw, 0, dense * classes);
                    } catch (ModelException e) {
                        log.warn("Inference failed on a batch of {} ({}); splitting it to isolate the image(s) at "
                                + "fault", dense, e.getMessage());
                        isolate(session, batch, 0, dense, raw, modelErrors, e.getMessage());
                    }
                    return null;
                });
            } catch (ModelException e) {
                throw new IllegalStateException("unreachable: isolation handles every inference failure", e);
            }
        }
        long t2 = System.nanoTime();
        for (int i = 0; i < outcomes.length; i++) {
            if (outcomes[i] != null) {
                continue;
            }
            if (modelErrors[slotOf[i]] != null) {
                outcomes[i] = new Rejected(FailureReason.MODEL_ERROR, modelErrors[slotOf[i]]);
                continue;
            }
            float[] probabilities = Scores.probabilities(raw, slotOf[i] * classes, classes, outputKind);
            int[] best = Scores.topK(probabilities, topK);
            List<Label> labels = new ArrayList<>(best.length);
            for (int index : best) {
                labels.add(new Label(index, model.labels().name(index), probabilities[index]));
            }
            outcomes[i] = new Labeled(labels, probabilities);
        }
        return new BatchResult(List.of(outcomes), slots, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }

    /**
     * Finds which images of a failed range make inference fail, by bisection: each half is run on its own, and a
     * half that fails again is split again, down to single images. The others get their scores; only the
     * culprits get {@code errors[slot]}. Ranges are copied into a separate tensor, so a fixed-batch model can
     * be padded without touching the batch's other images.
     */
    private void isolate(InferencePool.Session session, TensorBatch batch, int from, int count, float[] raw,
                         String[] errors, String error) {
        if (count == 1) {
            errors[from] = "inference fails on this image alone: " + error;
            return;
        }
        int half = count / 2;
        for (int[] range : new int[][] {{from, half}, {from + half, count - half}}) {
            TensorBatch part = atLeast(isolationBatches, batch.capacity());
            batch.copyTo(range[0], range[1], part);
            try {
                float[] out = session.run(part, range[1]);
                int classes = model.classifier().classes();
                System.arraycopy(out, 0, raw, range[0] * classes, range[1] * classes);
            } catch (ModelException e) {
                isolate(session, batch, range[0], range[1], raw, errors, e.getMessage());
            }
        }
    }

    /** Preprocesses image i into slot i; returns a rejection per failed image and null for the others. */
    private Outcome[] preprocessAll(List<byte[]> images, TensorBatch batch) {
        Outcome[] outcomes = new Outcome[images.size()];
        if (pool == null || images.size() == 1) {
            for (int i = 0; i < images.size(); i++) {
                outcomes[i] = preprocessOne(images.get(i), batch, i);
            }
            return outcomes;
        }
        List<Callable<Outcome>> tasks = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            int slot = i;
            tasks.add(() -> preprocessOne(images.get(slot), batch, slot));
        }
        try {
            List<Future<Outcome>> done = pool.invokeAll(tasks);
            for (int i = 0; i < done.size(); i++) {
                outcomes[i] = done.get(i).get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preprocessing a batch", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("preprocessing failed unexpectedly", e.getCause());
        }
        return outcomes;
    }

    private Outcome preprocessOne(byte[] image, TensorBatch batch, int slot) {
        float[] values = scratch.get();
        try {
            preprocessor.preprocess(image, values);
        } catch (ImageRejectedException e) {
            return new Rejected(e.reason(), e.getMessage());
        }
        batch.write(slot, values);
        return null;
    }

    /**
     * Lets submitted batches finish (a session must not be closed under a running call), then stops the threads
     * and releases the model's native sessions.
     */
    @Override
    public void close() {
        batchThreads.shutdown();
        boolean idle;
        try {
            idle = batchThreads.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            idle = false;
        }
        if (pool != null) {
            pool.shutdownNow();
        }
        if (idle) {
            model.close();
        } else {
            // Closing a native session under a running call can crash the JVM; leaking it until exit cannot.
            log.warn("Batches still running after 60 s; leaving the model's sessions open until the process exits");
        }
    }
}
