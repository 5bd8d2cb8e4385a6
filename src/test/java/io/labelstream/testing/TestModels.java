package io.labelstream.testing;

import io.labelstream.model.ResNetGenerator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Generated models shared by the tests of one build, made once under target/test-models. */
public final class TestModels {

    private static final Path DIR = Path.of("target", "test-models");

    private TestModels() {
    }

    public static synchronized Path resnet18() {
        return generated(ResNetGenerator.Architecture.RESNET18);
    }

    public static synchronized Path resnet50() {
        return generated(ResNetGenerator.Architecture.RESNET50);
    }

    /** A ResNet-18 with other weights: the same topology, another model (another SHA-256, other labels). */
    public static synchronized Path resnet18(long seed) {
        return generated(ResNetGenerator.Architecture.RESNET18, seed);
    }

    private static Path generated(ResNetGenerator.Architecture arch) {
        return generated(arch, ResNetGenerator.DEFAULT_SEED);
    }

    private static Path generated(ResNetGenerator.Architecture arch, long seed) {
        Path file = DIR.resolve(arch.modelName() + "-seed" + seed + ".onnx").toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            try {
                ResNetGenerator.write(arch, seed, file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return file;
    }
}
