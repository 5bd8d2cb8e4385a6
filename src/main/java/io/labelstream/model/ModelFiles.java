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
        writeAtomically(out, model::writeTo);
    }

    /** A labels file (or any text) written the same way: a watcher reloading it never reads half of it. */
    public static void writeTextAtomically(String text, Path out) throws IOException {
        writeAtomically(out, stream -> stream.write(text.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }

    private interface Writer {
        void writeTo(OutputStream stream) throws IOException;
    }

    private static void writeAtomically(Path out, Writer writer) throws IOException {
        Path parent = out.toAbsolutePath().getParent();
        Files.createDirectories(parent);
        Path tmp = Files.createTempFile(parent, out.getFileName().toString(), ".part");
        try (OutputStream stream = Files.newOutputStream(tmp)) {
            writer.writeTo(stream);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        Files.move(tmp, out, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * {@code model} with {@code added} put into its custom metadata (replacing keys it already has, keeping the rest)
     * and labelstream named as its producer, {@code tool} as the producer's version.
     */
    public static ModelProto withMetadata(ModelProto model, java.util.Map<String, String> added, String tool) {
        java.util.Map<String, String> meta = new java.util.LinkedHashMap<>();
        model.getMetadataPropsList().forEach(e -> meta.put(e.getKey(), e.getValue()));
        meta.putAll(added);
        ModelProto.Builder b = model.toBuilder().clearMetadataProps().setProducerName("labelstream")
                .setProducerVersion(tool);
        meta.forEach((k, v) -> b.addMetadataProps(ai.onnx.proto.OnnxMl.StringStringEntryProto.newBuilder().setKey(k)
                .setValue(v)));
        return b.build();
    }
}
