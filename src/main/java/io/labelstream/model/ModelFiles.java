package io.labelstream.model;

import ai.onnx.proto.OnnxMl.ModelProto;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

/** Model files labelstream writes. */
public final class ModelFiles {

    private ModelFiles() {
    }

    /** Writes beside {@code out} and moves into place, so no reader ever sees half a model. */
    public static void writeAtomically(ModelProto model, Path out) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, out.getFileName().toString(), ".part");
        try (OutputStream stream = Files.newOutputStream(tmp)) {
            model.writeTo(stream);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }
}
