package io.labelstream.model.quantize;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ImageFiles;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import io.labelstream.testing.Fixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The real pretrained CIFAR-10 ResNet-20 (ONNX IR 3, opset 7, batch fixed to 1), quantized as a user would, on at
 * most 50 of the fixture images: the targets are at least 97/100 right at top-1 on the 100 labeled images,
 * and at least 95/100 top-1 agreement with the fp32 model.
 */
class PretrainedQuantizationTest {

    @TempDir
    Path dir;

    @Test
    void theFixtureResNet20QuantizedOn50ImagesKeepsItsAccuracy() throws Exception {
        Path fixtures = Fixtures.dir();
        Path models = fixtures.resolve("models/cifar10-resnet20");
        List<Path> images = ImageFiles.expand(List.of(fixtures.resolve("images/cifar10")));
        assertThat(images).hasSize(100);
        LabelstreamConfig config = LabelstreamConfig.of(Map.of(
                Settings.MODEL_PATH.key(), models.resolve("model.onnx").toString(),
                Settings.MODEL_LABELS_PATH.key(), models.resolve("labels.txt").toString(),
                Settings.PREPROCESS_PRESET.key(), "cifar10"));
        Path out = dir.resolve("resnet20-int8.onnx");
        Quantizer.Result result = Quantizer.quantize(config, images, out,
                new Quantizer.Options(CalibrationMethod.MINMAX, 99.999, 50, Set.of(), WeightRange.PORTABLE), images);

        assertThat(result.calibrationImages()).isEqualTo(50);
        assertThat(result.quantizedByOp()).containsKeys("Conv", "Add", "Gemm");
        AgreementReport onAll = result.evaluation();
        System.out.println(String.join("\n", result.calibration().lines()));
        System.out.println(String.join("\n", onAll.lines()));
        assertThat(onAll.images()).isEqualTo(100);
        assertThat(onAll.agreeing()).as("top-1 agreement with fp32").isGreaterThanOrEqualTo(95);

        LabelstreamConfig int8Config = config.with(Settings.MODEL_PATH.key(), out.toString());
        try (LabelingEngine int8 = EngineFactory.create(int8Config)) {
            assertThat(int8.primaryModel().identity().version()).startsWith("int8-minmax-50img-")
                    .isEqualTo(result.summary());
            int correct = 0;
            List<byte[]> chunk = new ArrayList<>();
            List<String> truth = new ArrayList<>();
            for (Path image : images) {
                chunk.add(Files.readAllBytes(image));
                truth.add(image.getFileName().toString().replaceAll("\\d+\\.png$", ""));
            }
            List<ImageOutcome> outcomes = int8.label(chunk).outcomes();
            for (int i = 0; i < outcomes.size(); i++) {
                ImageOutcome.Labeled labeled = (ImageOutcome.Labeled) outcomes.get(i);
                correct += labeled.top().get(0).label().equals(truth.get(i)) ? 1 : 0;
            }
            System.out.printf("fixture ResNet-20 int8: %d/100 right at top-1, %d/100 agree with fp32%n", correct,
                    onAll.agreeing());
            assertThat(correct).as("top-1 right of 100").isGreaterThanOrEqualTo(97);
        }
        // What it was made from is in the model itself.
        var model = ai.onnx.proto.OnnxMl.ModelProto.parseFrom(Files.readAllBytes(out));
        Map<String, String> meta = new java.util.HashMap<>();
        model.getMetadataPropsList().forEach(e -> meta.put(e.getKey(), e.getValue()));
        assertThat(meta).containsEntry("labelstream.quantization.source_sha256", result.sourceSha256())
                .containsEntry("labelstream.quantization.calibration_images", "50")
                .containsEntry("labelstream.quantization.calibration_sha256", result.calibrationSha256())
                .containsEntry("labelstream.quantization.method", "minmax");
    }
}
