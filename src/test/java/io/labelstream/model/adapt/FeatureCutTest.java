package io.labelstream.model.adapt;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import io.labelstream.model.ModelException;
import io.labelstream.testing.Fixtures;
import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Where the features are, in the generated ResNets and both fixtures, and what the cut keeps. */
class FeatureCutTest {

    private static ModelProto read(Path file) throws Exception {
        return ModelProto.parseFrom(Files.readAllBytes(file));
    }

    private static NodeProto last(ModelProto model) {
        return model.getGraph().getNode(model.getGraph().getNodeCount() - 1);
    }

    private static NodeProto producer(ModelProto model, String tensor) {
        return model.getGraph().getNodeList().stream().filter(n -> n.getOutputList().contains(tensor)).findFirst()
                .orElseThrow();
    }

    @Test
    void generatedResNetsAreCutAtTheInputOfTheirFinalGemm() throws Exception {
        for (Path file : new Path[] {TestModels.resnet18(), TestModels.resnet50()}) {
            ModelProto source = read(file);
            NodeProto fc = producer(source, source.getGraph().getOutput(0).getName());
            assertThat(fc.getOpType()).isEqualTo("Gemm");
            FeatureCut.Backbone cut = FeatureCut.cut(source, null);
            assertThat(cut.tensor()).isEqualTo(fc.getInput(0));
            // The generated graph pools, flattens, then classifies: the features are the pooled vector.
            assertThat(producer(source, cut.tensor()).getOpType()).isEqualTo("Flatten");
            assertThat(cut.description()).contains("Flatten").contains("classifier Gemm");
            ModelProto backbone = cut.backbone();
            assertThat(backbone.getGraph().getNodeList()).noneMatch(n -> n.getOpType().equals("Gemm"));
            assertThat(backbone.getGraph().getInitializerList()).noneMatch(t -> t.getName().equals(fc.getInput(1)));
            assertThat(last(backbone).getOpType()).isEqualTo("Flatten");
            assertThat(backbone.getGraph().getOutput(0).getName()).isEqualTo(FeatureCut.FEATURES);
            assertThat(backbone.getGraph().getNodeCount()).isEqualTo(source.getGraph().getNodeCount());
            assertThat(backbone.getOpsetImportList()).isEqualTo(source.getOpsetImportList());
        }
    }

    @Test
    void aNamedNodeOrTensorIsCutAtAndAnUnknownOneIsRefused() throws Exception {
        ModelProto source = read(TestModels.resnet18());
        NodeProto pool = source.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("GlobalAveragePool")).findFirst().orElseThrow();
        FeatureCut.Backbone byTensor = FeatureCut.cut(source, pool.getOutput(0));
        assertThat(byTensor.tensor()).isEqualTo(pool.getOutput(0));
        assertThat(byTensor.description()).contains("--feature-node");
        assertThat(pool.getName()).isNotEmpty();
        assertThat(FeatureCut.cut(source, pool.getName()).tensor()).isEqualTo(pool.getOutput(0));
        // An earlier layer: everything after it is dropped.
        NodeProto early = source.getGraph().getNode(5);
        ModelProto shallow = FeatureCut.cut(source, early.getOutput(0)).backbone();
        assertThat(shallow.getGraph().getNodeList()).contains(early).hasSizeBetween(2, 6 + 1);
        assertThatThrownBy(() -> FeatureCut.cut(source, "no-such-node")).isInstanceOf(ModelException.class)
                .hasMessageContaining("--feature-node").hasMessageContaining("no-such-node");
    }

    @Test
    void aModelThatEndsWithoutAClassifierAsksForTheFeatureNode() throws Exception {
        ModelProto backbone = FeatureCut.cut(read(TestModels.resnet18()), null).backbone();
        assertThatThrownBy(() -> FeatureCut.cut(backbone, null)).isInstanceOf(ModelException.class)
                .hasMessageContaining("GlobalAveragePool").hasMessageContaining("--feature-node");
    }

    @Test
    void aClassifierThatTakesItsFeaturesTransposedIsRefused() throws Exception {
        ModelProto source = read(TestModels.resnet18());
        var graph = source.getGraph().toBuilder();
        int last = graph.getNodeCount() - 1;
        graph.setNode(last, graph.getNode(last).toBuilder().addAttribute(ai.onnx.proto.OnnxMl.AttributeProto
                .newBuilder().setName("transA").setType(ai.onnx.proto.OnnxMl.AttributeProto.AttributeType.INT).setI(1)));
        ModelProto transposed = source.toBuilder().setGraph(graph).build();
        assertThatThrownBy(() -> FeatureCut.cut(transposed, null)).isInstanceOf(ModelException.class)
                .hasMessageContaining("transposed").hasMessageContaining("--feature-node");
    }

    @Test
    void theInt8MobileNetsFeaturesAreDequantizedWithTheScaleItsClassifierReadsThemWith() throws Exception {
        ModelProto source = read(Fixtures.dir().resolve("models/mobilenetv2-12-int8/model.onnx"));
        FeatureCut.Backbone cut = FeatureCut.cut(source, null);
        assertThat(cut.tensor()).isEqualTo("472_quantized");
        assertThat(cut.description()).contains("QLinearMatMul");
        NodeProto classifier = source.getGraph().getNodeList().stream()
                .filter(n -> n.getOpType().equals("QLinearMatMul")).reduce((a, b) -> b).orElseThrow();
        NodeProto dequantize = producer(cut.backbone(), FeatureCut.FEATURES + "_q");
        assertThat(dequantize.getOpType()).isEqualTo("DequantizeLinear");
        assertThat(dequantize.getInputList()).containsExactly("472_quantized", classifier.getInput(1),
                classifier.getInput(2));
        assertThat(classifier.getInput(1)).isEqualTo("464_scale");
        assertThat(cut.backbone().getGraph().getNodeList()).noneMatch(n -> n == classifier
                || n.getName().equals(classifier.getName()));
        // Named, the same tensor is found quantized by walking back through the Reshape to its QLinear producer.
        NodeProto named = producer(FeatureCut.cut(source, "472_quantized").backbone(), FeatureCut.FEATURES + "_q");
        assertThat(named.getOpType()).isEqualTo("DequantizeLinear");
        assertThat(named.getInput(0)).isEqualTo("472_quantized");
    }

    @Test
    void theIr3CifarResNetKeepsItsInitializersListedAsInputs() throws Exception {
        ModelProto source = read(Fixtures.dir().resolve("models/cifar10-resnet20/model.onnx"));
        assertThat(source.getIrVersion()).isEqualTo(3);
        FeatureCut.Backbone cut = FeatureCut.cut(source, null);
        assertThat(cut.tensor()).isEqualTo("207");
        assertThat(cut.description()).contains("Reshape").contains("Gemm");
        ModelProto backbone = cut.backbone();
        Set<String> inputs = backbone.getGraph().getInputList().stream().map(i -> i.getName())
                .collect(Collectors.toSet());
        Set<String> initializers = backbone.getGraph().getInitializerList().stream().map(TensorProto::getName)
                .collect(Collectors.toSet());
        assertThat(inputs).containsAll(initializers).contains("input").hasSize(initializers.size() + 1);
        assertThat(backbone.getGraph().getNodeList()).noneMatch(n -> n.getOpType().equals("Gemm"));
        assertThat(backbone.getOpsetImport(0).getVersion()).isEqualTo(7);
        assertThat(FeatureCut.batchDim(backbone).getDimValue()).isEqualTo(1);
    }
}
