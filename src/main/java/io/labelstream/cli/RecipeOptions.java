package io.labelstream.cli;

import io.labelstream.config.Settings;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The settings a model tool computes through, so that what it measures or trains on is what {@code run} will feed
 * the model: a preprocessing preset and any other setting, as for {@code run}.
 */
final class RecipeOptions {

    @Option(names = {"-p", "--preset"}, paramLabel = "NAME", description = "Preprocessing preset, as for run.")
    String preset;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
            description = "Other settings, e.g. -s preprocess.crop=299 (as for run).")
    Map<String, String> settings = new LinkedHashMap<>();

    /** The command-line settings, with {@code model} as model.path and the preset when one was given. */
    Map<String, String> values(Path model) {
        Map<String, String> values = new LinkedHashMap<>(settings);
        values.put(Settings.MODEL_PATH.key(), model.toString());
        if (preset != null) {
            values.put(Settings.PREPROCESS_PRESET.key(), preset);
        }
        return values;
    }
}
