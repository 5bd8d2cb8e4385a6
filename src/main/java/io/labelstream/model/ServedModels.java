package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;

import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicReference;

/**
 * The models an engine serves: the {@link ModelSet} new batches go to, replaced between batches by a swap, and every
 * model not closed yet (the current ones, and replaced ones that batches still hold). Each model is checked against
 * the preprocessing that feeds it before it serves.
 */
final class ServedModels {

    private final ImagePreprocessor preprocessor;
    private final int topK;
    private final Scores.OutputKind outputKind;
    private final AtomicReference<ModelSet> current = new AtomicReference<>();
    private final Set<ServingModel> open = ConcurrentHashMap.newKeySet();

    /** @param preprocessor the primary model's preprocessing, which also decodes for the side models */
    ServedModels(LoadedModel primary, ImagePreprocessor preprocessor, int topK, Scores.OutputKind outputKind) {
        checkFits(primary, preprocessor);
        this.preprocessor = preprocessor;
        this.topK = topK;
        this.outputKind = outputKind;
        current.set(new ModelSet(serve(primary, topK), List.of()));
    }

    /** The preprocessing writes what the model reads: the same size and layout. */
    static void checkFits(LoadedModel model, ImagePreprocessor preprocessor) {
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

    ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    /** The set new batches go to. */
    ModelSet current() {
        return current.get();
    }

    /** The current set, held; a swap between reading it and holding it is retried. */
    Held holdCurrent() {
        while (true) {
            ModelSet set = current.get();
            Lease lease = set.tryLease();
            if (lease != null) {
                return new Held(set, lease);
            }
        }
    }

    /** A model set and the lease that holds it. */
    record Held(ModelSet set, Lease lease) implements AutoCloseable {
        @Override
        public void close() {
            lease.close();
        }
    }

    /** See {@link LabelingEngine#addSideModel(String, LoadedModel, int, ImagePreprocessor)}. */
    synchronized void addSide(String name, LoadedModel model, int modelTopK, ImagePreprocessor sidePreprocessor) {
        checkFits(model, sidePreprocessor);
        if (current.get().side(name) != null) {
            throw new IllegalArgumentException("side model " + name + " is there already");
        }
        replaceSet(current.get().withSide(new ModelSet.SideModel(name, serve(model, modelTopK), sidePreprocessor)));
    }

    /** See {@link LabelingEngine#swap}. */
    synchronized ModelId swap(LoadedModel candidate, int warmUpBatch) throws ModelException {
        checkFits(candidate, preprocessor);
        candidate.inferencePool().warmUp(warmUpBatch);
        ServingModel replaced = current.get().primary();
        replaceSet(current.get().withPrimary(serve(candidate, topK)));
        retire(replaced);
        return replaced.identity();
    }

    /** See {@link LabelingEngine#swapSide}. */
    synchronized ModelId swapSide(String name, LoadedModel candidate, int warmUpBatch) throws ModelException {
        ModelSet.SideModel replaced = current.get().side(name);
        if (replaced == null) {
            throw new IllegalArgumentException("no side model " + name);
        }
        checkFits(candidate, replaced.preprocessor());
        candidate.inferencePool().warmUp(warmUpBatch);
        replaceSet(current.get().withSide(new ModelSet.SideModel(name, serve(candidate, replaced.serving().topK()),
                replaced.preprocessor())));
        retire(replaced.serving());
        return replaced.serving().identity();
    }

    private ServingModel serve(LoadedModel model, int modelTopK) {
        ServingModel serving = new ServingModel(model, modelTopK, outputKind);
        open.add(serving);
        return serving;
    }

    /** Makes {@code next} the set of new batches; the one it replaces lets go of its models once unused. */
    private void replaceSet(ModelSet next) {
        current.getAndSet(next).retire();
        open.removeIf(ServingModel::isClosed);
    }

    private void retire(ServingModel replaced) {
        replaced.retire();
        open.removeIf(ServingModel::isClosed);
    }

    /** Closes every model still open, whoever holds it: for the engine's close, once no batch runs. */
    void closeAll() {
        open.forEach(ServingModel::closeNow);
    }
}
