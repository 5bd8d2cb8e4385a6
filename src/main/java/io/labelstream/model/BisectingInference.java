package io.labelstream.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * The second part of labeling a batch: one ONNX Runtime call for the dense batch on the first free worker (or one
 * call per part when it is split over idle workers), and, if a call fails, bisection to find the image(s) at fault.
 * Each half is run on its own, and a half that fails again is split again, down to single images; the others get
 * their scores, only the culprits an error.
 *
 * <p>Bisection has a time budget, counted from the batch's first call: a slow or busy machine makes it slower,
 * never unbounded. Images not isolated when the budget runs out get an error that says so.
 */
final class BisectingInference {

    private static final Logger log = LoggerFactory.getLogger(BisectingInference.class);

    /**
     * @param raw    the model's outputs, {@code classes} values per slot
     * @param errors per slot, why inference failed on it, or null
     * @param maps   the feature maps, {@code mapValues} per slot; null when the model does not put them out
     */
    record Result(float[] raw, String[] errors, float[] maps) {
    }

    private final InferencePool pool;
    private final int classes;
    /** Values of one image's feature map; 0 when the model does not put it out. */
    private final int mapValues;
    /** Rarely used: a second tensor for re-running parts of a batch whose inference failed. */
    private final ThreadLocal<TensorBatch> isolationBatches = new ThreadLocal<>();

    BisectingInference(InferencePool pool) {
        this.pool = pool;
        this.classes = pool.classes();
        int[] shape = pool.mapShape();
        this.mapValues = shape == null ? 0 : shape[0] * shape[1] * shape[2];
    }

    /**
     * Runs the first {@code count} slots of {@code batch}, split over the workers idle at the time
     * ({@link InferencePool#onIdleWorkers}); a part that fails is bisected on its own worker, the others keep their
     * scores. Bisection gives up after {@code isolationBudget}.
     */
    Result infer(TensorBatch batch, int count, Duration isolationBudget) {
        float[] raw = new float[count * classes];
        String[] errors = new String[count];
        float[] maps = mapValues == 0 ? null : new float[count * mapValues];
        if (count == 0) {
            return new Result(raw, errors, maps);
        }
        try {
            pool.onIdleWorkers(count, pool.splitUnit(), (session, from, n) -> {
                long deadline = System.nanoTime() + isolationBudget.toNanos();
                try {
                    System.arraycopy(session.run(batch, from, n, maps), 0, raw, from * classes, n * classes);
                } catch (ModelException e) {
                    log.warn("Inference failed on {} images of a batch of {} ({}); splitting them to isolate the "
                            + "image(s) at fault", n, count, e.getMessage());
                    new Bisection(session, batch, raw, maps, errors, deadline, isolationBudget).isolate(from, n,
                            e.getMessage());
                }
            });
        } catch (ModelException e) {
            throw new IllegalStateException("unreachable: bisection handles every inference failure", e);
        }
        return new Result(raw, errors, maps);
    }

    /** One failed batch's search for its culprits. */
    private final class Bisection {
        private final InferencePool.Session session;
        private final TensorBatch batch;
        private final float[] raw;
        private final float[] maps;
        private final String[] errors;
        private final long deadline;
        private final Duration budget;

        Bisection(InferencePool.Session session, TensorBatch batch, float[] raw, float[] maps, String[] errors,
                  long deadline, Duration budget) {
            this.session = session;
            this.batch = batch;
            this.raw = raw;
            this.maps = maps;
            this.errors = errors;
            this.deadline = deadline;
            this.budget = budget;
        }

        /** Ranges are copied into a separate tensor, so a fixed-batch model can be padded without touching the rest. */
        void isolate(int from, int count, String error) {
            if (count == 1) {
                errors[from] = "inference fails on this image alone: " + error;
                return;
            }
            int half = count / 2;
            for (int[] range : new int[][] {{from, half}, {from + half, count - half}}) {
                if (System.nanoTime() - deadline >= 0) {
                    for (int slot = range[0]; slot < range[0] + range[1]; slot++) {
                        errors[slot] = "inference failed on a batch with this image in it, and the image could not "
                                + "be isolated within " + budget.toMillis() + " ms (the time a batch is given, "
                                + "kafka.producer.transaction.timeout.ms): " + error;
                    }
                    continue;
                }
                TensorBatch part = isolationBatch(batch.capacity());
                batch.copyTo(range[0], range[1], part);
                try {
                    float[] partMaps = maps == null ? null : new float[range[1] * mapValues];
                    float[] out = session.run(part, 0, range[1], partMaps);
                    System.arraycopy(out, 0, raw, range[0] * classes, range[1] * classes);
                    if (maps != null) {
                        System.arraycopy(partMaps, 0, maps, range[0] * mapValues, range[1] * mapValues);
                    }
                } catch (ModelException e) {
                    isolate(range[0], range[1], e.getMessage());
                }
            }
        }
    }

    private TensorBatch isolationBatch(int capacity) {
        TensorBatch current = isolationBatches.get();
        if (current == null || current.capacity() < capacity) {
            current = pool.allocateBatch(capacity);
            isolationBatches.set(current);
        }
        return current;
    }
}
