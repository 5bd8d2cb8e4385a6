package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.schema.FailureReason;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;

/**
 * Encoded images in, one {@link ImageOutcome} per image out, in three parts as a translator wraps a predictor:
 * {@link BatchPreprocessor} (decode and preprocess into a dense batch tensor), {@link BisectingInference} (one
 * ONNX Runtime call on the first free worker, or one part on each idle one, bisection when it fails) and
 * {@link Postprocessor} (softmax, top k, label names). Knows nothing of Kafka.
 *
 * <p>The model can be replaced while the engine runs ({@link #swap}): each batch runs on one model from start to
 * end, and names it in its outcome.
 *
 * <p>Thread-safe; each calling thread gets its own batch tensor. {@link #submit} runs a batch on the engine's own
 * batch threads, so a caller can decode the next batch while the model is busy with this one: one batch thread
 * more than the inference workers keeps every worker fed.
 */
public final class LabelingEngine implements AutoCloseable {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(LabelingEngine.class);
    /**
     * How long the bisection of a failed batch may take when the caller has no deadline of its own to give. A
     * caller that must finish a batch within some time (a transaction's) passes that time instead.
     */
    public static final Duration DEFAULT_ISOLATION_BUDGET = Duration.ofSeconds(10);

    private final BatchPreprocessor preprocessing;
    private final Duration isolationBudget;
    private final ExecutorService batchThreads;
    private final ServedModels served;
    private final ThreadTensors tensors = new ThreadTensors();
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
        this.served = new ServedModels(model, preprocessor, topK, outputKind);
        this.preprocessing = new BatchPreprocessor(preprocessor, preprocessThreads);
        this.isolationBudget = isolationBudget;
        AtomicInteger batchCounter = new AtomicInteger();
        // One more than the workers: each can run a batch while the next is decoded. Not two per worker, now that
        // a worker is a core: each batch thread keeps a batch tensor of its own.
        this.batchThreads = Executors.newFixedThreadPool(model.inferencePool().workers() + 1, r -> {
            Thread t = new Thread(r, "labelstream-batch-" + batchCounter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** As {@link #addSideModel(String, LoadedModel, int, ImagePreprocessor)}, with the primary's preprocessing. */
    public void addSideModel(String name, LoadedModel model, int topK) {
        addSideModel(name, model, topK, served.preprocessor());
    }

    /**
     * Adds a model that labels every batch after the primary, from the same decoded images: each image is decoded
     * once for all of them. Models whose preprocessing and input element type are the same read one batch
     * tensor; a side model with its own recipe, layout or element type gets a tensor of its own, filled from the
     * same decode. Call before the first batch; the engine closes it.
     *
     * @param preprocessor the preprocessing the model's input takes; its decoder is not used (the primary's is)
     * @throws IllegalArgumentException when its input does not fit {@code preprocessor}
     */
    public void addSideModel(String name, LoadedModel model, int topK, ImagePreprocessor preprocessor) {
        served.addSide(name, model, topK, preprocessor);
    }

    public List<ModelSet.SideModel> sideModels() {
        return served.current().sides();
    }

    /** The primary model new batches go to. */
    public LoadedModel primaryModel() {
        return served.current().primary().model();
    }

    /** The models new batches go to, for a caller that holds them across several batches ({@link ModelSet#tryLease}). */
    public ModelSet models() {
        return served.current();
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
        checkOpen();
        return served.swap(candidate, warmUpBatch);
    }

    /**
     * As {@link #swap}, for side model {@code name}: checked as {@link #addSideModel} checks it, warmed up, and
     * used by every batch submitted from now on, with its top k.
     */
    public synchronized ModelId swapSide(String name, LoadedModel candidate, int warmUpBatch) throws ModelException {
        checkOpen();
        return served.swapSide(name, candidate, warmUpBatch);
    }

    private void checkOpen() {
        if (batchThreads.isShutdown()) {
            throw new IllegalStateException("the engine is closing");
        }
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
     * being decoded, than it has inference workers, and one of them is free (a batch split over idle workers holds
     * several).
     */
    public boolean hasIdleWorker() {
        InferencePool pool = primaryModel().inferencePool();
        // A batch that found several workers idle holds all of them: the count of batches alone would not say so.
        return batchesInEngine.get() < pool.workers() && pool.freeWorkers() > 0;
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
     * Runs one batch of {@code batchSize} blank images through each model: checks that it can run a batch that
     * large, and lets ONNX Runtime plan and allocate before the first real batch. Not timed.
     */
    public void warmUp(int batchSize) throws ModelException {
        ModelSet set = served.current();
        set.primary().model().inferencePool().warmUp(batchSize);
        for (ModelSet.SideModel side : set.sides()) {
            side.serving().model().inferencePool().warmUp(batchSize);
        }
    }

    /** As {@link #submit(ModelSet, List, int)}, on the current models. */
    public CompletableFuture<BatchOutcome> submit(List<byte[]> images, int capacity) {
        try (ServedModels.Held held = served.holdCurrent()) {
            return submit(held.set(), images, capacity);
        }
    }

    /**
     * Labels a batch with the models of {@code set} on one of the engine's batch threads, each of which has its
     * own tensor of {@code capacity} images. Batches submitted together overlap: while one is in ONNX Runtime, the
     * next is being decoded. The batch holds the set until it has finished, so it may be replaced meanwhile.
     *
     * @throws IllegalStateException when {@code set} has been replaced and let go: hold it to use it
     */
    public CompletableFuture<BatchOutcome> submit(ModelSet set, List<byte[]> images, int capacity) {
        Lease lease = set.tryLease();
        if (lease == null) {
            throw new IllegalStateException("the model set of " + set.primary() + " was replaced and let go");
        }
        CompletableFuture<BatchOutcome> result = new CompletableFuture<>();
        batchesInEngine.incrementAndGet();
        try {
            batchThreads.execute(() -> run(set, lease, images, capacity, result));
        } catch (RuntimeException rejected) { // the engine is closing
            batchesInEngine.decrementAndGet();
            lease.close();
            throw rejected;
        }
        return result;
    }

    private void run(ModelSet set, Lease lease, List<byte[]> images, int capacity,
                     CompletableFuture<BatchOutcome> result) {
        BatchOutcome outcome = null;
        Throwable failure = null;
        try {
            if (!result.isDone()) { // else cancelled before it started
                long t0 = System.nanoTime();
                outcome = label(set, images, tensors.primary(set, capacity));
                double ms = (System.nanoTime() - t0) / 1e6;
                typicalBatchMs = typicalBatchMs == 0 ? ms : 0.75 * typicalBatchMs + 0.25 * ms; // racy, harmless
            }
        } catch (Throwable t) {
            failure = t;
        }
        // Both before the caller can see the outcome: a caller that saw it sees the engine idle, and sees the set
        // let go by this batch (a replaced model closes with its last user, not some time after).
        batchesInEngine.decrementAndGet();
        try {
            lease.close();
        } finally { // a model that fails to close must not keep the caller waiting for a finished batch
            if (failure != null) {
                result.completeExceptionally(failure);
            } else if (outcome != null) {
                result.complete(outcome);
            }
        }
    }

    /** Labels a batch on the calling thread, with the current models. */
    public BatchOutcome label(List<byte[]> images) {
        try (ServedModels.Held held = served.holdCurrent()) {
            return label(held.set(), images, tensors.primary(held.set(), images.size()));
        }
    }

    private BatchOutcome label(ModelSet set, List<byte[]> images, TensorBatch batch) {
        ServingModel model = set.primary();
        long t0 = System.nanoTime();
        Map<String, BatchPreprocessor.Target> targets = tensors.targets(set, served.preprocessor(), batch);
        BatchPreprocessor.DenseBatch dense = preprocessing.preprocess(images, List.copyOf(targets.values()));
        long t1 = System.nanoTime();
        BisectingInference.Result inferred = model.inference().infer(batch, dense.images(), isolationBudget);
        long t2 = System.nanoTime();
        ImageOutcome[] outcomes = outcomes(model, served.preprocessor().recipe(), dense, inferred,
                i -> dense.rejections()[i]);
        List<BatchOutcome.SideOutcome> sides = new ArrayList<>(set.sides().size());
        for (ModelSet.SideModel side : set.sides()) {
            TensorBatch tensor = targets.get(ThreadTensors.key(side.preprocessor(), side.serving().model().input()))
                    .tensor();
            sides.add(labelWith(side, dense, tensor));
        }
        return new BatchOutcome(List.of(outcomes), dense.images(), (t1 - t0) / 1e6, (t2 - t1) / 1e6,
                model.identity(), sides);
    }

    /** A side model's outcomes for the images preprocessing put into {@code batch}, its tensor. */
    private BatchOutcome.SideOutcome labelWith(ModelSet.SideModel side, BatchPreprocessor.DenseBatch dense, TensorBatch batch) {
        long t0 = System.nanoTime();
        BisectingInference.Result inferred = side.serving().inference().infer(batch, dense.images(), isolationBudget);
        double ms = (System.nanoTime() - t0) / 1e6;
        // An image preprocessing rejected has no side outcome: the primary's failure record says why, for all models.
        ImageOutcome[] outcomes = outcomes(side.serving(), side.preprocessor().recipe(), dense, inferred, i -> null);
        return new BatchOutcome.SideOutcome(side.name(), side.serving().identity(), side.preprocessor().recipe().name(),
                side.preprocessor().recipeHash(), java.util.Arrays.asList(outcomes), ms);
    }

    /**
     * One outcome per image of the batch, in the caller's order, from {@code model}'s inference over the images
     * preprocessing let through: labels, or the model's error for an image it failed on;
     * {@code notPreprocessed} gives the outcome of an image {@code i} that preprocessing rejected. When the model
     * puts out its feature map, each labeled image keeps its own, with the part of the image {@code recipe} let
     * the model see.
     */
    private static ImageOutcome[] outcomes(ServingModel model, PreprocessRecipe recipe,
                                           BatchPreprocessor.DenseBatch dense, BisectingInference.Result inferred,
                                           IntFunction<ImageOutcome> notPreprocessed) {
        ClassActivationMaps maps = model.model().activationMaps();
        int[] mapShape = maps == null ? null : model.model().inferencePool().mapShape();
        ImageOutcome[] outcomes = new ImageOutcome[dense.slotOf().length];
        for (int i = 0; i < outcomes.length; i++) {
            int slot = dense.slotOf()[i];
            if (slot < 0) {
                outcomes[i] = notPreprocessed.apply(i);
            } else if (inferred.errors()[slot] != null) {
                outcomes[i] = new ImageOutcome.Rejected(FailureReason.MODEL_ERROR, inferred.errors()[slot]);
            } else {
                ImageMaps imageMaps = maps == null ? null : new ImageMaps(maps, inferred.maps(),
                        slot * mapShape[0] * mapShape[1] * mapShape[2], mapShape[1], mapShape[2],
                        recipe.region(dense.sizes()[4 * i], dense.sizes()[4 * i + 1], dense.sizes()[4 * i + 2],
                                dense.sizes()[4 * i + 3]),
                        model.model().explain());
                outcomes[i] = model.postprocessing().labeled(inferred.raw(), slot, imageMaps);
            }
        }
        return outcomes;
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
            served.closeAll();
        } else {
            // Closing a native session under a running call can crash the JVM; leaking it until exit cannot.
            log.warn("Batches still running after 60 s; leaving the model's sessions open until the process exits");
        }
    }
}
