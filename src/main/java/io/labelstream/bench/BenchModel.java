package io.labelstream.bench;

import io.labelstream.model.DefaultModel;
import io.labelstream.model.ModelException;
import io.labelstream.model.ResNetGenerator;
import io.labelstream.model.quantize.GeneratedInt8;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A generated model a benchmark measures: fp32 as generated, or its int8 copy calibrated on generated images. */
public record BenchModel(ResNetGenerator.Architecture architecture, boolean int8) {

    /** "resnet50" or "resnet50-int8". */
    public static BenchModel parse(String text) {
        boolean int8 = text.endsWith("-int8");
        return new BenchModel(ResNetGenerator.Architecture.parse(int8 ? text.substring(0, text.length() - 5) : text),
                int8);
    }

    public String name() {
        return architecture.modelName() + (int8 ? "-int8" : "");
    }

    public BenchModel fp32() {
        return new BenchModel(architecture, false);
    }

    public BenchModel asInt8() {
        return new BenchModel(architecture, true);
    }

    /** The model file, generated (and quantized) into the cache first if it is not there yet. */
    public Path ensure() throws IOException, ModelException {
        Path fp32 = DefaultModel.ensure(architecture);
        if (!int8) {
            return fp32;
        }
        Path file = fp32.resolveSibling(fp32.getFileName().toString().replace(".onnx", "-int8.onnx"));
        if (!Files.isRegularFile(file)) {
            GeneratedInt8.quantize(fp32, file);
        }
        return file;
    }
}
