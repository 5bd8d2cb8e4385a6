package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.schema.FailureReason;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Encoded images in, one {@link ImageOutcome} per image out, in three parts as a translator wraps a predictor:
 * {@link BatchPreprocessor} (decode and preprocess into a dense batch tensor), {@link BisectingInference} (one
 * ONNX Runtime call on the least-busy worker, bisection when it fails) and {@link Postprocessor} (softmax, top k,
 * label names). Knows nothing of Kafka.
 *
 * <p>The model can be replaced while the engine runs ({@link #swap}): each batch runs on one model from start to
 * end, and names it in its outcome.
 *
 * <p>Thread-safe; each calling thread gets its own batch tensor. {@link #submit} runs a batch on the engine's own
 * batch threads, so a caller can decode the next batch while the model is busy with this one: two batch threads
 * per inference worker keep every worker fed.
 */
public final class LabelingEngine implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LabelingEngine.class);
    /** Kafka Streams' transaction timeout under exactly-once, the usual budget of a batch's bisection. */
    public static final Duration DEFAULT_ISOLATION_BUDGET = Duration.ofMillis(
            io.labelstream.config.LabelstreamConfig.STREAMS_TRANSACTION_TIMEOUT_MS);

    private final ImagePreprocessor preprocessor;
    private final BatchPreprocessor preprocessing;
    private final int topK;
    private final Scores.OutputKind outputKind;
    private final Duration isolationBudget;
    private final ExecutorService batchThreads;
    private final ThreadLocal<TensorBatch> threadBatches = new ThreadLocal<>();
    /** The model new batches go to; {@link #swap} replaces it between batches. */
    private final AtomicReference<ServingModel> serving = new AtomicReference<>();
    /** Every model served and not closed yet: the current one and replaced ones that batches still use. */
    private final Set<ServingModel> open = ConcurrentHashMap.newKeySet();
    /** Batches submitted and not finished, whether still being decoded, waiting for a worker or running. */
    private final AtomicInteger batchesInEngine = new AtomicInteger();
    /** Smoothed wall time of a submitted batch, decode to outcome; 0 until one has finished. */
    private volatile double typicalBatchMs;

    public LabelingEngine(LoadedModel model, ImagePreprocessor preprocessor, int topK, Scores.OutputKind outputKind,
                          int preprocessThreads) {
        this(model, preprocessor, topK, outputKind, preprocessThreads, DEFAULT_ISOLATION_BUDGET);
    }

    /**
     * @param preprocessThreads threads decoding and preprocessing a batch's images at once; 1 runs them on the
     *                          calling thread
     * @param isolationBudget   how long the bisection of a failed batch may take before the images it has not
     *                          isolated yet are failed
     */
    public LabelingEngine(LoadedModel model, ImagePreprocessor preprocessor, int topK, Scores.OutputKind outputKind,
                          int preprocessThreads, Duration isolationBudget) {
        checkFits(model, preprocessor);
        this.preprocessor = preprocessor;
        this.preprocessing = new BatchPreprocessor(preprocessor, preprocessThreads, model.input().valuesPerImage());
        this.topK = topK;
        this.outputKind = outputKind;
        this.isolationBudget = isolationBudget;
        ServingModel first = new ServingModel(model, topK, outputKind);
        serving.set(first);
        open.add(first);
        AtomicInteger batchCounter = new AtomicInteger();
        this.batchThreads = Executors.newFixedThreadPool(2 * model.inferencePool().workers(), r -> {
            Thread t = new Thread(r, "labelstream-batch-" + batchCounter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** The preprocessing writes what the model reads: the same size and layout. */
    private static void checkFits(LoadedModel model, ImagePreprocessor preprocessor) {
        ModelInput input = model.input();
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
    }

    /** The model new batches go to. */
    public LoadedModel model() {
        return serving.get().model();
    }

    /** The model new batches go to, for a caller that holds it across several batches ({@link ServingModel#tryAcquire}). */
    public ServingModel serving() {
        return serving.get();
    }

    /**
     * Makes {@code candidate} the model of every batch submitted from now on, once it has been checked: its input
     * fits the preprocessing and it runs a warm-up batch of {@code warmUpBatch} images. Batches already submitted
     * finish on the model they were given; the replaced model closes when nothing holds it any more. On failure
     * nothing changes, and the caller still owns {@code candidate}.
     *
     * @return the model it replaced
     * @throws IllegalArgumentException when its input does not fit the preprocessing
     * @throws ModelException           when the warm-up batch fails
     */
    public synchronized ModelId swap(LoadedModel candidate, int warmUpBatch) throws ModelException {
        if (batchThreads.isShutdown()) {
            throw new IllegalStateException("the engine is closing");
        }
        checkFits(candidate, preprocessor);
        candidate.inferencePool().run(candidate.inferencePool().allocateBatch(warmUpBatch), warmUpBatch);
        ServingModel next = new ServingModel(candidate, topK, outputKind);
        open.add(next);
        ServingModel replaced = serving.getAndSet(next);
        replaced.retire();
        open.removeIf(ServingModel::isClosed);
        return replaced.identity();
    }

    public PreprocessRecipe recipe() {
        return preprocessing.preprocessor().recipe();
    }

    /** Identifies the preprocessing in output records: see {@link ImagePreprocessor#recipeHash()}. */
    public String recipeHash() {
        return preprocessing.preprocessor().recipeHash();
    }

    /**
     * True when a batch submitted now would start at once: fewer batches are in the engine, counting those still
     * being decoded, than it has inference workers.
     */
    public boolean hasIdleWorker() {
        return batchesInEngine.get() < model().inferencePool().workers();
    }

    /**
     * How long a submitted batch has recently taken from the start of its decoding to its outcome (an exponentially
     * weighted mean over finished batches, so no single slow or fast batch decides it); 0 before the first one.
     */
    public Duration typicalBatchTime() {
        return Duration.ofNanos((long) (typicalBatchMs * 1_000_000));
    }

    /** Batches submitted and not finished yet: being decoded, waiting for a worker, or running. */
    public int batchesInEngine() {
        return batchesInEngine.get();
    }

    /**
     * The calling thread's batch tensor for {@code model}, allocated on first use and again only when a model with
     * another input replaces it. A stream thread runs its tasks one at a time, so its tasks share one tensor
     * instead of each holding its own.
     */
    private TensorBatch threadBatch(ServingModel model, int maxBatchSize) {
        TensorBatch current = threadBatches.get();
        ModelInput input = model.model().input();
        if (current == null || current.capacity() < maxBatchSize || !current.input().equals(input)) {
            current = model.model().inferencePool().allocateBatch(maxBatchSize);
            threadBatches.set(current);
        }
        return current;
    }

    /**
     * Runs one batch of {@code batchSize} blank images through the model: checks that it can run a batch that
     * large, and lets ONNX Runtime plan and allocate before the first real batch. Not timed.
     */
    public void warmUp(int batchSize) throws ModelException {
        LoadedModel model = model();
        model.inferencePool().run(model.inferencePool().allocateBatch(batchSize), batchSize);
    }

    /** As {@link #submit(ServingModel, List, int)}, on the current model. */
    public CompletableFuture<BatchOutcome> submit(List<byte[]> images, int capacity) {
        ServingModel model = acquireCurrent();
        try {
            return submit(model, images, capacity);
        } finally {
            model.release();
        }
    }

    /**
     * Labels a batch with {@code model} on one of the engine's batch threads, each of which has its own tensor of
     * {@code capacity} images. Batches submitted together overlap: while one is in ONNX Runtime, the next is being
     * decoded. The batch holds the model until it has finished, so it may be replaced meanwhile.
     *
     * @throws IllegalStateException when {@code model} has been replaced and closed: hold it to use it
     */
    public CompletableFuture<BatchOutcome> submit(ServingModel model, List<byte[]> images, int capacity) {
        if (!model.tryAcquire()) {
            throw new IllegalStateException("model " + model + " was replaced and closed");
        }
        CompletableFuture<BatchOutcome> result = new CompletableFuture<>();
        batchesInEngine.incrementAndGet();
        try {
            batchThreads.execute(() -> {
                try {
                    run(model, images, capacity, result);
                } finally {
                    model.release();
                }
            });
        } catch (RuntimeException rejected) { // the engine is closing
            batchesInEngine.decrementAndGet();
            model.release();
            throw rejected;
        }
        return result;
    }

    private void run(ServingModel model, List<byte[]> images, int capacity, CompletableFuture<BatchOutcome> result) {
        if (result.isDone()) { // cancelled before it started
            batchesInEngine.decrementAndGet();
            return;
        }
        long t0 = System.nanoTime();
        BatchOutcome outcome;
        try {
            outcome = label(model, images, threadBatch(model, capacity));
        } catch (Throwable t) {
            batchesInEngine.decrementAndGet();
            result.completeExceptionally(t);
            return;
        }
        double ms = (System.nanoTime() - t0) / 1e6;
        typicalBatchMs = typicalBatchMs == 0 ? ms : 0.75 * typicalBatchMs + 0.25 * ms; // racy, harmless
        // Counted out before the caller can see the outcome, so a caller that saw it sees the engine idle.
        batchesInEngine.decrementAndGet();
        result.complete(outcome);
    }

    /** The current model, held; a swap between reading and holding it is retried. */
    private ServingModel acquireCurrent() {
        while (true) {
            ServingModel model = serving.get();
            if (model.tryAcquire()) {
                return model;
            }
        }
    }

    /** Labels a batch on the calling thread, with the current model. */
    public BatchOutcome label(List<byte[]> images) {
        ServingModel model = acquireCurrent();
        try {
            return label(model, images, threadBatch(model, images.size()));
        } finally {
            model.release();
        }
    }

    private BatchOutcome label(ServingModel model, List<byte[]> images, TensorBatch batch) {
        long t0 = System.nanoTime();
        BatchPreprocessor.DenseBatch dense = preprocessing.preprocess(images, batch);
        long t1 = System.nanoTime();
        BisectingInference.Result inferred = model.inference().infer(batch, dense.images(), isolationBudget);
        long t2 = System.nanoTime();
        ImageOutcome[] outcomes = new ImageOutcome[images.size()];
        for (int i = 0; i < outcomes.length; i++) {
            int slot = dense.slotOf()[i];
            if (slot < 0) {
                outcomes[i] = dense.rejections()[i];
            } else if (inferred.errors()[slot] != null) {
                outcomes[i] = new ImageOutcome.Rejected(FailureReason.MODEL_ERROR, inferred.errors()[slot]);
            } else {
                outcomes[i] = model.postprocessing().labeled(inferred.raw(), slot);
            }
        }
        return new BatchOutcome(List.of(outcomes), dense.images(), (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                model.identity());
    }

    /**
     * Lets submitted batches finish (a session must not be closed under a running call), then stops the threads
     * and releases the model's native sessions.
     */
    @Override
    public void close() {
        synchronized (this) { // a swap under way finishes first, and none starts after
            batchThreads.shutdown();
        }
        boolean idle;
        try {
            idle = batchThreads.awaitTermination(60, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            idle = false;
        }
        preprocessing.close();
        if (idle) {
            open.forEach(ServingModel::closeNow);
        } else {
            // Closing a native session under a running call can crash the JVM; leaking it until exit cannot.
            log.warn("Batches still running after 60 s; leaving the model's sessions open until the process exits");
        }
    }
}
