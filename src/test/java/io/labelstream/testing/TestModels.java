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

    private static Path generated(ResNetGenerator.Architecture arch) {
        Path file = DIR.resolve(arch.modelName() + "-seed" + ResNetGenerator.DEFAULT_SEED + ".onnx").toAbsolutePath();
        if (!Files.isRegularFile(file)) {
            try {
                ResNetGenerator.write(arch, ResNetGenerator.DEFAULT_SEED, file);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return file;
    }
}
