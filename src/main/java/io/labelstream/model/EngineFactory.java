package io.labelstream.model;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Builds the {@link LabelingEngine} a configuration describes, failing with the name of the setting at fault. */
public final class EngineFactory {

    private EngineFactory() {
    }

    public static LabelingEngine create(LabelstreamConfig config) {
        String modelPath = config.get(Settings.MODEL_PATH);
        if (modelPath.isEmpty()) {
            throw new ConfigException("Setting " + Settings.MODEL_PATH.key() + " is required: the ONNX model to run"
                    + " (make one offline with 'labelstream model generate --arch resnet50 --out model.onnx')");
        }
        Path model = Path.of(modelPath);
        if (!Files.isRegularFile(model)) {
            throw ConfigException.invalid(Settings.MODEL_PATH.key(), modelPath, "no such file");
        }
        String labelsPath = config.get(Settings.MODEL_LABELS_PATH);
        Path labels = labelsPath.isEmpty() ? null : Path.of(labelsPath);
        if (labels != null && !Files.isRegularFile(labels)) {
            throw ConfigException.invalid(Settings.MODEL_LABELS_PATH.key(), labelsPath, "no such file");
        }
        LoadedModel loaded;
        try {
            loaded = LoadedModel.load(model, labels, config.get(Settings.MODEL_NAME),
                    new SessionSettings(config.get(Settings.MODEL_INTRA_OP_THREADS)));
        } catch (ModelException | IOException e) {
            throw new ConfigException("Cannot use " + Settings.MODEL_PATH.key() + "=" + modelPath
                    + (labels == null ? "" : " with " + Settings.MODEL_LABELS_PATH.key() + "=" + labelsPath)
                    + ": " + e.getMessage());
        }
        try {
            ImageDecoder decoder = new ImageDecoder(new ImageLimits(config.get(Settings.IMAGE_MAX_BYTES),
                    config.get(Settings.IMAGE_MAX_PIXELS)));
            PreprocessRecipe recipe = PreprocessRecipe.IMAGENET;
            return new LabelingEngine(loaded, new ImagePreprocessor(recipe, decoder), config.get(Settings.MODEL_TOP_K),
                    Scores.OutputKind.parse(config.get(Settings.MODEL_OUTPUT)));
        } catch (IllegalArgumentException e) {
            loaded.close();
            throw new ConfigException("Setting " + Settings.PREPROCESS_PRESET.key() + "="
                    + config.get(Settings.PREPROCESS_PRESET) + " does not fit the model: " + e.getMessage());
        }
    }
}
