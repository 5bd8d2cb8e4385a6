package io.labelstream.model;

import ai.onnx.proto.OnnxMl;
import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;

import io.labelstream.image.TensorLayout;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

class ResNetGeneratorTest {

    /** torchvision's parameter counts (weights, biases, BN scale and shift; not running statistics). */
    private static final long RESNET18_PARAMETERS = 11_689_512L;
    private static final long RESNET50_PARAMETERS = 25_557_032L;

    @Test
    void resnet18HasTheTopologyOfThePaper() {
        OnnxMl.ModelProto model = ResNetGenerator.build(ResNetGenerator.Architecture.RESNET18, 1);
        Map<String, Long> ops = opCounts(model);
        // 1 stem + 8 blocks × 2 + 3 projection shortcuts.
        assertThat(ops.get("Conv")).isEqualTo(20);
        assertThat(ops.get("BatchNormalization")).isEqualTo(20);
        assertThat(ops.get("Add")).isEqualTo(8);
        assertThat(ops.get("MaxPool")).isEqualTo(1);
        assertThat(ops.get("GlobalAveragePool")).isEqualTo(1);
        assertThat(ops.get("Gemm")).isEqualTo(1);
        assertThat(parameters(model)).isEqualTo(RESNET18_PARAMETERS);
    }

    @Test
    void resnet50HasTheTopologyOfThePaper() {
        OnnxMl.ModelProto model = ResNetGenerator.build(ResNetGenerator.Architecture.RESNET50, 1);
        Map<String, Long> ops = opCounts(model);
        // 1 stem + 16 bottlenecks × 3 + 4 projection shortcuts.
        assertThat(ops.get("Conv")).isEqualTo(53);
        assertThat(ops.get("Add")).isEqualTo(16);
        assertThat(parameters(model)).isEqualTo(RESNET50_PARAMETERS);
    }

    /** The other three depths of the paper's Table 1, against torchvision's resnet34, resnet101 and resnet152. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({
            // architecture, torchvision parameters, Conv (1 stem + blocks × 2 or 3 + projection shortcuts), Add
            "RESNET34, 21797672, 36, 16",
            "RESNET101, 44549160, 104, 33",
            "RESNET152, 60192808, 155, 50"})
    void theDeeperResNetsHaveTorchvisionsParameterCounts(ResNetGenerator.Architecture arch, long parameters,
                                                         long convs, long adds) {
        OnnxMl.ModelProto model = ResNetGenerator.build(arch, 1);
        Map<String, Long> ops = opCounts(model);
        assertThat(ops.get("Conv")).isEqualTo(convs);
        assertThat(ops.get("Add")).isEqualTo(adds);
        assertThat(ops.get("Gemm")).isEqualTo(1);
        assertThat(parameters(model)).isEqualTo(parameters);
        assertThat(ResNetGenerator.Architecture.parse(arch.modelName())).isEqualTo(arch);
    }

    @Test
    void sameSeedSameBytesOtherSeedOtherWeights() {
        byte[] a = ResNetGenerator.build(ResNetGenerator.Architecture.RESNET18, 42).toByteArray();
        byte[] b = ResNetGenerator.build(ResNetGenerator.Architecture.RESNET18, 42).toByteArray();
        byte[] c = ResNetGenerator.build(ResNetGenerator.Architecture.RESNET18, 43).toByteArray();
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void onnxRuntimeRunsItWithADynamicBatchAndDistinctOutputsPerImage() throws Exception {
        try (OnnxClassifier classifier = OnnxClassifier.load(TestModels.resnet18(), SessionSettings.defaults())) {
            assertThat(classifier.input()).isEqualTo(new ModelInput("input", TensorLayout.NCHW,
                    ModelInput.ElementType.FLOAT32, 224, 224, 0));
            assertThat(classifier.classes()).isEqualTo(1000);
            TensorBatch batch = classifier.allocateBatch(3);
            java.util.Random r = new java.util.Random(1);
            float[] image = new float[classifier.input().valuesPerImage()];
            for (int slot = 0; slot < 3; slot++) {
                for (int i = 0; i < image.length; i++) {
                    image[i] = (float) r.nextGaussian();
                }
                batch.write(slot, image);
            }
            float[] three = classifier.run(batch, 3);
            float[] one = classifier.run(batch, 1);
            assertThat(three).hasSize(3000);
            assertThat(java.util.Arrays.copyOf(three, 1000)).containsExactly(one, org.assertj.core.api.Assertions.within(1e-3f));
            assertThat(java.util.Arrays.copyOfRange(three, 1000, 2000)).isNotEqualTo(java.util.Arrays.copyOf(three, 1000));
            for (float v : three) {
                assertThat(Float.isFinite(v)).isTrue();
            }
        }
    }

    private static Map<String, Long> opCounts(OnnxMl.ModelProto model) {
        return model.getGraph().getNodeList().stream()
                .collect(Collectors.groupingBy(OnnxMl.NodeProto::getOpType, Collectors.counting()));
    }

    private static long parameters(OnnxMl.ModelProto model) {
        return model.getGraph().getInitializerList().stream()
                .filter(t -> !t.getName().endsWith("running_mean") && !t.getName().endsWith("running_var"))
                .mapToLong(t -> t.getDimsList().stream().mapToLong(Long::longValue).reduce(1, (x, y) -> x * y))
                .sum();
    }


}
