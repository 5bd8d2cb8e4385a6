package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SourceRegion;
import io.labelstream.model.Activation;
import io.labelstream.model.ExplainSettings;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.testing.ColourModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The model whose maps are known by construction ({@link ColourModel}), quantized by {@code model quantize} into
 * the QDQ form: its classifier's weights come through a DequantizeLinear, and the map still peaks on the red square.
 */
class QuantizedActivationMapsTest {

    @TempDir
    Path dir;

    @Test
    void aQdqModelIsExplainedFromItsDequantizedWeights() throws Exception {
        Path fp32 = ColourModel.write(dir.resolve("colour.onnx"));
        Path int8 = dir.resolve("colour-int8.onnx");
        GeneratedInt8.quantize(fp32, int8);
        ModelProto quantized = ModelProto.parseFrom(Files.readAllBytes(int8));
        NodeProto gemm = quantized.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Gemm"))
                .findFirst().orElseThrow();
        assertThat(quantized.getGraph().getNodeList()).anyMatch(n -> n.getOpType().equals("DequantizeLinear")
                && n.getOutputList().contains(gemm.getInput(1)));
        LoadedModel loaded = LoadedModel.load(int8, ColourModel.labels(dir.resolve("labels.txt")), "colour-int8",
                new SessionSettings(1), new ExplainSettings(1, false));
        try (LabelingEngine engine = new LabelingEngine(loaded, new ImagePreprocessor(PreprocessRecipe.IMAGENET,
                new ImageDecoder(ImageLimits.defaults())), 2, Scores.OutputKind.AUTO, 1)) {
            SourceRegion seen = PreprocessRecipe.IMAGENET.region(400, 300);
            int side = (int) (seen.width() / 7);
            byte[] image = ColourModel.squareImage(400, 300, (int) (seen.x() + 3 * side), (int) seen.y() + 1, side,
                    Color.RED);
            ImageOutcome.Labeled labeled = (ImageOutcome.Labeled) engine.label(List.of(image)).outcomes().get(0);
            assertThat(labeled.top().get(0).label()).isEqualTo("red");
            Activation map = labeled.maps().activation(0);
            assertThat(map.cell(0, 3)).isEqualTo(255);
            assertThat(map.cell(6, 0)).isZero();
        }
    }
}
