package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.AttributeProto;
import io.labelstream.image.TensorLayout;
import io.labelstream.model.ModelException;
import io.labelstream.model.ModelInput;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Each pattern the quantizer rewrites, on a tiny real graph: the int8 model computes what the fp32 one does (within
 * what 8 bits allow), and ONNX Runtime's CPU provider really fuses it into its int8 kernel — the graph it runs has
 * the QLinear op and none of the float op or Q/DQ pairs around it.
 */
class QdqPatternsTest {

    private static final ModelInput INPUT = new ModelInput("x", TensorLayout.NCHW, ModelInput.ElementType.FLOAT32,
            8, 8, 0);
    private static final List<float[]> IMAGES = TinyGraphs.images(16, 3 * 8 * 8, 7);

    @TempDir
    Path dir;

    private static ModelProto quantize(ModelProto fp32, Set<String> exclude) throws ModelException {
        return quantize(fp32, exclude, WeightRange.PORTABLE);
    }

    private static ModelProto quantize(ModelProto fp32, Set<String> exclude, WeightRange weights)
            throws ModelException {
        return Quantizer.quantize(fp32, IMAGES, INPUT, new Quantizer.Options(CalibrationMethod.MINMAX, 99.999, 16,
                exclude, weights)).model();
    }

    /** int8 outputs on held-out inputs stay within a few quantization steps of fp32's range. */
    private static void assertClose(ModelProto fp32, ModelProto int8, double tolerance) throws Exception {
        for (float[] image : TinyGraphs.images(4, 3 * 8 * 8, 99)) {
            float[] a = TinyGraphs.run(fp32, image, 1, 3, 8, 8);
            float[] b = TinyGraphs.run(int8, image, 1, 3, 8, 8);
            assertThat(b).hasSameSizeAs(a);
            double range = 0;
            double worst = 0;
            for (int i = 0; i < a.length; i++) {
                range = Math.max(range, Math.abs(a[i]));
                worst = Math.max(worst, Math.abs(a[i] - b[i]));
            }
            assertThat(range).isPositive();
            assertThat(worst / range).as("largest error ÷ largest |fp32 output|").isLessThan(tolerance);
        }
    }

    /** The largest |q| of each output channel of a Conv's int8 weights (axis 0). */
    private static java.util.TreeSet<Integer> channelPeaks(ModelProto int8) {
        var weights = int8.getGraph().getInitializerList().stream()
                .filter(t -> t.getName().startsWith("w") && t.getName().contains("_quantized")).findFirst().orElseThrow();
        byte[] q = weights.getRawData().toByteArray();
        int channels = (int) weights.getDims(0);
        int inner = q.length / channels;
        java.util.TreeSet<Integer> peaks = new java.util.TreeSet<>();
        for (int c = 0; c < channels; c++) {
            int peak = 0;
            for (int i = c * inner; i < (c + 1) * inner; i++) {
                peak = Math.max(peak, Math.abs(q[i]));
            }
            peaks.add(peak);
        }
        return peaks;
    }

    private static long count(ModelProto model, String op) {
        return model.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals(op)).count();
    }

    @Test
    void convWithBiasAndReluBecomesOneQLinearConvWithTheReluAbsorbed() throws Exception {
        TinyGraphs g = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 4, 8, 8);
        String c = g.conv("x", 3, 4, true);
        g.node("Relu", List.of(c));
        g.nameLastOutput("y");
        ModelProto fp32 = g.model(13, 8);
        ModelProto int8 = quantize(fp32, Set.of());

        assertThat(count(int8, "QuantizeLinear")).isEqualTo(2); // the input, and the Relu's output
        NodeProto weightDq = int8.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("DequantizeLinear") && n.getInput(0).startsWith("w"))
                .findFirst().orElseThrow();
        assertThat(OnnxTensors.intAttribute(weightDq, "axis", -1)).isZero();
        var weights = int8.getGraph().getInitializerList().stream().filter(t -> t.getName().equals(weightDq.getInput(0)))
                .findFirst().orElseThrow();
        assertThat(weights.getDataType()).isEqualTo(ai.onnx.proto.OnnxMl.TensorProto.DataType.INT8_VALUE);
        var biasQ = int8.getGraph().getInitializerList().stream().filter(t -> t.getName().startsWith("b0_quantized"))
                .findFirst().orElseThrow();
        assertThat(biasQ.getDataType()).isEqualTo(ai.onnx.proto.OnnxMl.TensorProto.DataType.INT32_VALUE);
        assertClose(fp32, int8, 0.05);

        Map<String, Integer> ops = TinyGraphs.optimizedOps(int8, dir);
        assertThat(ops).containsEntry("QLinearConv", 1).doesNotContainKeys("Conv", "Relu");
    }

    /**
     * Portable weights reach ±64 in every channel and no further, so no pair of uint8 × int8 products can pass
     * int16 in the VPMADDUBSW kernels of x86 CPUs without VNNI (where this test's other checks ran wrong with
     * full-range weights: errors of 13–39 % of the output's range). Full range reaches ±127; its outputs are
     * checked only where the kernels do not saturate.
     */
    @Test
    void portableWeightsStayWithinWhatKernelsWithoutVnniAddExactlyAndFullRangeUsesAll127Levels() throws Exception {
        TinyGraphs g = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 4, 8, 8);
        g.node("Relu", List.of(g.conv("x", 3, 4, true)));
        g.nameLastOutput("y");
        ModelProto fp32 = g.model(13, 8);
        assertThat(channelPeaks(quantize(fp32, Set.of()))).containsExactly(64);
        ModelProto full = quantize(fp32, Set.of(), WeightRange.FULL);
        assertThat(channelPeaks(full)).containsExactly(127);
        if (!io.labelstream.model.Int8Kernels.saturateOnFullRangeWeights()) {
            assertClose(fp32, full, 0.03);
        }
    }

    @Test
    void batchNormalizationIsFoldedIntoTheConvolutionBeforeQuantizing() throws Exception {
        TinyGraphs g = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 4, 8, 8);
        String c = g.conv("x", 3, 4, false);
        String bn = g.node("BatchNormalization", List.of(c, g.constant("g", new float[] {1.5f, 0.5f, 1f, 2f}, 4),
                g.constant("be", new float[] {0.1f, -0.2f, 0f, 0.3f}, 4),
                g.constant("mu", new float[] {0.05f, 0f, -0.1f, 0.2f}, 4),
                g.constant("var", new float[] {1f, 0.5f, 2f, 1.2f}, 4)), TinyGraphs.floatAttr("epsilon", 1e-5f));
        g.node("Relu", List.of(bn));
        g.nameLastOutput("y");
        ModelProto fp32 = g.model(13, 8);
        ModelProto prepared = FloatGraphPreparation.prepare(fp32);
        assertThat(count(prepared, "BatchNormalization")).isZero();
        assertClose(fp32, prepared, 1e-5); // folding changes nothing
        ModelProto int8 = quantize(fp32, Set.of());
        assertClose(fp32, int8, 0.05);
        assertThat(TinyGraphs.optimizedOps(int8, dir)).containsEntry("QLinearConv", 1)
                .doesNotContainKeys("BatchNormalization", "Conv");
    }

    @Test
    void aResidualBlockWithPoolingAndAFullyConnectedHeadRunsOnInt8Kernels() throws Exception {
        TinyGraphs g = new TinyGraphs().input("x", -1, 3, 8, 8).output("logits", -1, 5);
        String stem = g.node("Relu", List.of(g.conv("x", 3, 4, true)));
        String branch = g.conv(g.node("Relu", List.of(g.conv(stem, 4, 4, true))), 4, 4, true);
        String sum = g.node("Relu", List.of(g.node("Add", List.of(branch, stem))));
        String pooled = g.node("GlobalAveragePool", List.of(sum));
        String flat = g.node("Flatten", List.of(pooled), TinyGraphs.intAttr("axis", 1));
        g.node("Gemm", List.of(flat, g.weights("fc", 0.5f, 5, 4), g.weights("fcb", 0.1f, 5)),
                TinyGraphs.intAttr("transB", 1));
        g.nameLastOutput("logits");
        ModelProto fp32 = g.model(17, 8);
        ModelProto int8 = quantize(fp32, Set.of());
        assertClose(fp32, int8, 0.08);
        Map<String, Integer> ops = TinyGraphs.optimizedOps(int8, dir);
        assertThat(ops).containsEntry("QLinearConv", 3).containsEntry("QLinearAdd", 1)
                .containsEntry("QLinearGlobalAveragePool", 1).containsKey("QGemm")
                .doesNotContainKeys("Conv", "Add", "GlobalAveragePool", "Gemm", "Relu");
    }

    @Test
    void maxPoolAndReshapeRunOnUint8AtTheirInputsScaleAndConcatAndAveragePoolGetTheirOwn() throws Exception {
        TinyGraphs g = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 4 * 2 * 2);
        String a = g.node("Relu", List.of(g.conv("x", 3, 2, true)));
        String b = g.node("Relu", List.of(g.conv("x", 3, 2, true)));
        String cat = g.node("Concat", List.of(a, b), TinyGraphs.intAttr("axis", 1));
        String max = g.node("MaxPool", List.of(cat), TinyGraphs.ints("kernel_shape", 2, 2),
                TinyGraphs.ints("strides", 2, 2));
        String avg = g.node("AveragePool", List.of(max), TinyGraphs.ints("kernel_shape", 2, 2),
                TinyGraphs.ints("strides", 2, 2));
        String conv = g.conv(avg, 4, 4, true);
        g.node("Reshape", List.of(conv, g.graph.addInitializer(OnnxTensors.int64Tensor("shape", new long[] {-1, 16}, 2))
                .getInitializer(g.graph.getInitializerCount() - 1).getName()));
        g.nameLastOutput("y");
        ModelProto fp32 = g.model(13, 8);
        ModelProto int8 = quantize(fp32, Set.of());
        assertClose(fp32, int8, 0.08);
        // MaxPool's Q has exactly its DQ's scale and zero point: ORT drops both and pools the uint8 values.
        NodeProto maxPool = int8.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("MaxPool"))
                .findFirst().orElseThrow();
        NodeProto dqBefore = producer(int8, maxPool.getInput(0));
        NodeProto qAfter = int8.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("QuantizeLinear") && n.getInput(0).equals(maxPool.getOutput(0)))
                .findFirst().orElseThrow();
        assertThat(qAfter.getInput(1)).isEqualTo(dqBefore.getInput(1));
        Map<String, Integer> ops = TinyGraphs.optimizedOps(int8, dir);
        assertThat(ops).containsEntry("QLinearConcat", 1).containsEntry("QLinearAveragePool", 1)
                .containsEntry("QLinearConv", 3).doesNotContainKeys("Conv", "Concat", "AveragePool");
        // ORT runs the MaxPool on the uint8 values (NhwcMaxPool on x86): the only Q left is the input's, the only
        // DQ the graph output's.
        assertThat(ops.getOrDefault("MaxPool", 0) + ops.getOrDefault("NhwcMaxPool", 0)).isEqualTo(1);
        assertThat(ops).containsEntry("QuantizeLinear", 1).containsEntry("DequantizeLinear", 1);
    }

    @Test
    void matMulWithConstantWeightsIsQuantizedPerColumn() throws Exception {
        TinyGraphs g = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 6);
        String flat = g.node("Flatten", List.of(g.node("Relu", List.of(g.conv("x", 3, 2, true)))),
                TinyGraphs.intAttr("axis", 1));
        g.node("MatMul", List.of(flat, g.weights("mm", 0.1f, 128, 6)));
        g.nameLastOutput("y");
        ModelProto fp32 = g.model(13, 8);
        ModelProto int8 = quantize(fp32, Set.of());
        NodeProto dq = int8.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("DequantizeLinear") && n.getInput(0).startsWith("mm"))
                .findFirst().orElseThrow();
        assertThat(OnnxTensors.intAttribute(dq, "axis", -1)).isEqualTo(1);
        assertClose(fp32, int8, 0.05);
        assertThat(TinyGraphs.optimizedOps(int8, dir)).doesNotContainKey("MatMul");
    }

    @Test
    void anOpset7ModelWithAFixedBatchOfOneAndItsInitializersAsInputsIsUpgradedAndFused() throws Exception {
        // As old PyTorch exports are: IR 3, opset 7, every initializer also listed as a graph input, Clip-6 with
        // its bounds as attributes, a Dropout left in, and a batch fixed to 1.
        TinyGraphs g = new TinyGraphs().input("x", 1, 3, 8, 8).output("y", 1, 4);
        String c = g.conv("x", 3, 4, true);
        String clip = g.node("Clip", List.of(c), TinyGraphs.floatAttr("min", 0f), TinyGraphs.floatAttr("max", 6f));
        String drop = g.node("Dropout", List.of(clip), TinyGraphs.floatAttr("ratio", 0.5f));
        String pooled = g.node("GlobalAveragePool", List.of(drop));
        g.node("Reshape", List.of(pooled, g.graph.addInitializer(OnnxTensors.int64Tensor("shape", new long[] {1, 4}, 2))
                .getInitializer(g.graph.getInitializerCount() - 1).getName()));
        g.nameLastOutput("y");
        for (var init : List.copyOf(g.graph.getInitializerList())) {
            var info = TinyGraphs.valueInfo(init.getName(), OnnxTensors.dims(init)).toBuilder();
            info.getTypeBuilder().getTensorTypeBuilder().setElemType(init.getDataType());
            g.graph.addInput(info);
        }
        ModelProto fp32 = g.model(7, 3);
        ModelInput fixed = new ModelInput("x", TensorLayout.NCHW, ModelInput.ElementType.FLOAT32, 8, 8, 1);
        ModelProto int8 = Quantizer.quantize(fp32, IMAGES, fixed, Quantizer.Options.defaults()).model();

        assertThat(OnnxTensors.defaultOpset(int8)).isEqualTo(13);
        assertThat(int8.getIrVersion()).isGreaterThanOrEqualTo(7);
        assertThat(int8.getGraph().getInputList()).extracting(v -> v.getName()).containsExactly("x");
        assertThat(count(int8, "Dropout")).isZero();
        NodeProto clipNode = int8.getGraph().getNodeList().stream().filter(n -> n.getOpType().equals("Clip"))
                .findFirst().orElseThrow();
        assertThat(clipNode.getInputCount()).isEqualTo(3);
        assertThat(clipNode.getAttributeList()).isEmpty();
        assertClose(fp32, int8, 0.05);
        assertThat(TinyGraphs.optimizedOps(int8, dir)).containsEntry("QLinearConv", 1)
                .doesNotContainKeys("Conv", "Clip");
    }

    @Test
    void excludedNodesAndOpTypesStayFloat() throws Exception {
        TinyGraphs g = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 4, 8, 8);
        String first = g.node("Relu", List.of(g.conv("x", 3, 4, true)));
        String second = g.conv(first, 4, 4, true);
        g.node("Relu", List.of(second));
        g.nameLastOutput("y");
        ModelProto fp32 = g.model(13, 8);
        ModelProto int8 = quantize(fp32, Set.of(second)); // the second Conv by its node name
        assertClose(fp32, int8, 0.05);
        assertThat(TinyGraphs.optimizedOps(int8, dir)).containsEntry("QLinearConv", 1);
        assertThatThrownBy(() -> quantize(fp32, Set.of("Conv")))
                .isInstanceOf(ModelException.class).hasMessageContaining("nothing in the model can be quantized");
    }

    @Test
    void modelsItCannotHandleAreRefusedSayingWhy() {
        TinyGraphs old = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 3, 16, 16);
        old.node("Upsample", List.of("x"), AttributeProto.newBuilder().setName("scales")
                .setType(AttributeProto.AttributeType.FLOATS).addFloats(1).addFloats(1).addFloats(2).addFloats(2)
                .build());
        old.nameLastOutput("y");
        assertThatThrownBy(() -> FloatGraphPreparation.prepare(old.model(7, 3)))
                .isInstanceOf(ModelException.class).hasMessageContaining("cannot upgrade Upsample")
                .hasMessageContaining("opset 7");
        TinyGraphs quantized = new TinyGraphs().input("x", -1, 3, 8, 8).output("y", -1, 3, 8, 8);
        quantized.node("QuantizeLinear", List.of("x", quantized.constant("s", new float[] {1f})));
        quantized.nameLastOutput("y");
        assertThatThrownBy(() -> FloatGraphPreparation.prepare(quantized.model(13, 8)))
                .hasMessageContaining("already quantized");
        assertThatThrownBy(() -> FloatGraphPreparation.prepare(quantized.model(6, 3)))
                .hasMessageContaining("opset 6");
    }

    private static NodeProto producer(ModelProto model, String tensor) {
        return model.getGraph().getNodeList().stream().filter(n -> n.getOutputList().contains(tensor)).findFirst()
                .orElseThrow();
    }
}
