package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Each calling thread's batch tensors: allocated on first use, and again only when a model with another input
 * replaces the one they were made for. A stream thread runs its tasks one at a time, and a batch thread its
 * batches, so they share one tensor per input instead of one per batch.
 */
final class ThreadTensors {

    private final ThreadLocal<TensorBatch> primary = new ThreadLocal<>();
    /** Tensors for side models that cannot read the primary's, by {@link #key}. */
    private final ThreadLocal<Map<String, TensorBatch>> sides = ThreadLocal.withInitial(HashMap::new);

    /**
     * Models whose tensors have the same key read the same tensor: written by the same recipe (its hash), in the
     * same layout and element type, for the same image size (which {@link ServedModels#checkFits} ties to the
     * recipe).
     */
    static String key(ImagePreprocessor preprocessor, ModelInput input) {
        return preprocessor.recipeHash() + "|" + preprocessor.layout() + "|" + input.elementType();
    }

    /** The calling thread's tensor for the primary model of {@code set}, for at least {@code capacity} images. */
    TensorBatch primary(ModelSet set, int capacity) {
        TensorBatch tensor = primary.get();
        LoadedModel model = set.primary().model();
        if (tensor == null || tensor.capacity() < capacity || !tensor.input().equals(model.input())) {
            tensor = model.inferencePool().allocateBatch(capacity);
            primary.set(tensor);
        }
        return tensor;
    }

    /**
     * The tensors a batch fills, by {@link #key}: the primary's {@code batch} first (its preprocessor decodes),
     * then one of the calling thread's own for each other recipe, layout or element type a side model takes.
     */
    Map<String, BatchPreprocessor.Target> targets(ModelSet set, ImagePreprocessor preprocessor, TensorBatch batch) {
        Map<String, BatchPreprocessor.Target> targets = new LinkedHashMap<>();
        targets.put(key(preprocessor, set.primary().model().input()), new BatchPreprocessor.Target(preprocessor, batch));
        Map<String, TensorBatch> own = sides.get();
        for (ModelSet.SideModel side : set.sides()) {
            LoadedModel model = side.serving().model();
            targets.computeIfAbsent(key(side.preprocessor(), model.input()), key -> {
                TensorBatch tensor = own.get(key);
                if (tensor == null || tensor.capacity() < batch.capacity()
                        || tensor.input().valuesPerImage() != model.input().valuesPerImage()) {
                    tensor = model.inferencePool().allocateBatch(batch.capacity());
                    own.put(key, tensor);
                }
                return new BatchPreprocessor.Target(side.preprocessor(), tensor);
            });
        }
        return targets;
    }
}
