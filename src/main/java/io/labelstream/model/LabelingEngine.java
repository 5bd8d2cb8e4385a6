package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.Label;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Encoded images in, top-k labels out: decode and preprocess each image into the batch buffer, one ONNX Runtime
 * call for the batch, then probabilities and top-k per image. Knows nothing of Kafka. An image that cannot be
 * decoded is rejected on its own; it never fails its neighbours.
 *
 * <p>Thread-safe; each caller brings its own {@link Workspace}.
 */
public final class LabelingEngine {

    private final LoadedModel model;
    private final ImagePreprocessor preprocessor;
    private final int topK;
    private final Scores.OutputKind outputKind;
    private final ThreadLocal<Workspace> threadWorkspaces = new ThreadLocal<>();

    public LabelingEngine(LoadedModel model, ImagePreprocessor preprocessor, int topK, Scores.OutputKind outputKind) {
        ModelInput input = model.classifier().input();
        var recipe = preprocessor.recipe();
        if (recipe.cropHeight() != input.height() || recipe.cropWidth() != input.width()) {
            throw new IllegalArgumentException("preprocessing recipe " + recipe.name() + " makes "
                    + recipe.cropWidth() + "×" + recipe.cropHeight() + " images but the model's input '"
                    + input.name() + "' is " + input.width() + "×" + input.height());
        }
        this.model = model;
        this.preprocessor = preprocessor;
        this.topK = topK;
        this.outputKind = outputKind;
    }

    public LoadedModel model() {
        return model;
    }

    /** Reusable per-caller state: the batch's direct tensor buffer. */
    public Workspace newWorkspace(int maxBatchSize) {
        return new Workspace(model.classifier().allocateBatchBuffer(maxBatchSize), maxBatchSize);
    }

    /**
     * The calling thread's workspace, allocated on first use. A stream thread runs its tasks one at a time, so
     * its tasks share one batch buffer instead of each holding its own.
     */
    public Workspace threadWorkspace(int maxBatchSize) {
        Workspace current = threadWorkspaces.get();
        if (current == null || current.capacity < maxBatchSize) {
            current = newWorkspace(maxBatchSize);
            threadWorkspaces.set(current);
        }
        return current;
    }

    /** One image's result: labels, or the reason it was not labeled. */
    public sealed interface Outcome permits Labeled, Rejected {
    }

    public record Labeled(List<Label> labels) implements Outcome {
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

    public BatchResult label(List<byte[]> images, Workspace workspace) {
        if (images.size() > workspace.capacity) {
            throw new IllegalArgumentException("batch of " + images.size() + " exceeds the workspace's "
                    + workspace.capacity);
        }
        Outcome[] outcomes = new Outcome[images.size()];
        int[] slotOf = new int[images.size()];
        int slots = 0;
        long t0 = System.nanoTime();
        for (int i = 0; i < images.size(); i++) {
            try {
                preprocessor.preprocess(images.get(i), workspace.buffer, slots);
                slotOf[i] = slots++;
            } catch (ImageRejectedException e) {
                outcomes[i] = new Rejected(e.reason(), e.getMessage());
                slotOf[i] = -1;
            }
        }
        long t1 = System.nanoTime();
        float[] raw = null;
        String modelError = null;
        if (slots > 0) {
            try {
                raw = model.classifier().run(workspace.buffer, slots);
            } catch (ModelException e) {
                modelError = e.getMessage();
            }
        }
        long t2 = System.nanoTime();
        int classes = model.classifier().classes();
        for (int i = 0; i < outcomes.length; i++) {
            if (outcomes[i] != null) {
                continue;
            }
            if (raw == null) {
                outcomes[i] = new Rejected(FailureReason.MODEL_ERROR, modelError);
                continue;
            }
            float[] probabilities = Scores.probabilities(raw, slotOf[i] * classes, classes, outputKind);
            int[] best = Scores.topK(probabilities, topK);
            List<Label> labels = new ArrayList<>(best.length);
            for (int index : best) {
                labels.add(new Label(index, model.labels().name(index), probabilities[index]));
            }
            outcomes[i] = new Labeled(labels);
        }
        return new BatchResult(List.of(outcomes), slots, (t1 - t0) / 1e6, (t2 - t1) / 1e6);
    }

    /** A caller's batch buffer; not thread-safe, one per stream task. */
    public static final class Workspace {
        private final FloatBuffer buffer;
        private final int capacity;

        private Workspace(FloatBuffer buffer, int capacity) {
            this.buffer = buffer;
            this.capacity = capacity;
        }

        public int capacity() {
            return capacity;
        }
    }
}
