package io.labelstream.model.quantize;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.ModelException;
import io.labelstream.model.ResNetGenerator;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A generated ResNet, quantized: the fp32 model is generated, then calibrated on generated photos (the project's
 * synthetic JPEGs, through the ImageNet recipe), so benchmarks can compare int8 with fp32 without any data.
 */
public final class GeneratedInt8 {

    public static final int CALIBRATION_IMAGES = 32;

    private GeneratedInt8() {
    }

    public static Quantizer.Result write(ResNetGenerator.Architecture architecture, long seed, Path out)
            throws IOException, ModelException {
        Path fp32 = Files.createTempFile(out.toAbsolutePath().getParent(), out.getFileName().toString(), ".fp32.onnx");
        try {
            ResNetGenerator.write(architecture, seed, fp32);
            return quantize(fp32, out);
        } finally {
            Files.deleteIfExists(fp32);
        }
    }

    /** Quantizes a generated fp32 model file, calibrated on generated images. */
    public static Quantizer.Result quantize(Path fp32, Path out) throws IOException, ModelException {
        List<byte[]> images = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < CALIBRATION_IMAGES; i++) {
            images.add(SyntheticImages.jpeg(320, 240, 1000 + i));
            names.add("generated-" + i);
        }
        LabelstreamConfig config = LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(), fp32.toString()));
        return Quantizer.quantize(config, images, names, out, Quantizer.Options.defaults(), List.of());
    }
}
