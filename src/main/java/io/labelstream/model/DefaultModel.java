package io.labelstream.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The model used when the user names none (demo only): a generated ResNet-18, made once and kept in the cache
 * folder ({@code $LABELSTREAM_CACHE}, else {@code $XDG_CACHE_HOME/labelstream}, else {@code ~/.cache/labelstream}).
 */
public final class DefaultModel {

    private DefaultModel() {
    }

    public static Path cacheDir() {
        String explicit = System.getenv("LABELSTREAM_CACHE");
        if (explicit != null && !explicit.isBlank()) {
            return Path.of(explicit);
        }
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("labelstream");
    }

    /**
     * {@code config} as it is when it names a model; otherwise with a generated ResNet-18, saying so on
     * {@code notice}, for the commands that must work on a fresh machine (demo, classify, soak).
     */
    public static io.labelstream.config.LabelstreamConfig orGenerated(io.labelstream.config.LabelstreamConfig config,
                                                                     java.io.PrintStream notice) throws IOException {
        if (!config.get(io.labelstream.config.Settings.MODEL_PATH).isEmpty()) {
            return config;
        }
        notice.println("No --model given: using a generated ResNet-18 (untrained weights, meaningless labels)");
        return config.with(io.labelstream.config.Settings.MODEL_PATH.key(),
                ensure(ResNetGenerator.Architecture.RESNET18).toString());
    }

    /** Returns the generated model file, generating it first if it is not in the cache yet. */
    public static Path ensure(ResNetGenerator.Architecture architecture) throws IOException {
        Path file = cacheDir().resolve("models").resolve(architecture.modelName() + "-seed"
                + ResNetGenerator.DEFAULT_SEED + ".onnx");
        if (!Files.isRegularFile(file)) {
            ResNetGenerator.write(architecture, ResNetGenerator.DEFAULT_SEED, file);
        }
        return file;
    }
}
