package io.labelstream.model.adapt;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.SyntheticImages;
import io.labelstream.image.TensorLayout;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.ModelException;
import io.labelstream.model.ModelFiles;
import io.labelstream.model.ModelMetadata;
import io.labelstream.model.SessionSettings;
import io.labelstream.model.quantize.Quantizer;
import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The written model on generated ResNets: one graph (backbone, then Flatten and the Gemm head), the source's opset
 * and IR version, the batch and layout of the source, and labels that are the head's own once ONNX Runtime runs it.
 */
class AdapterTest {

    @TempDir
    Path dir;

    /** Two classes of four random photos each: more features (512) than images, so a head can fit them all. */
    private Path trainingFolders() throws Exception {
        Path train = dir.resolve("train");
        for (int i = 0; i < 8; i++) {
            Path file = train.resolve(i % 2 == 0 ? "left" : "right").resolve(i + ".jpg");
            Files.createDirectories(file.getParent());
            Files.write(file, SyntheticImages.jpeg(260, 240, 100 + i));
        }
        return train;
    }

    private static Adapter.Options fitEverything() {
        // No holdout and little L2: the head must reproduce every training label, which checks the written Gemm.
        return new Adapter.Options(0, null, 1, 1e-4, 1500);
    }

    private static Map<String, String> metadata(ModelProto model) {
        return model.getMetadataPropsList().stream().collect(Collectors.toMap(StringStringEntryProto::getKey,
                StringStringEntryProto::getValue));
    }

    @Test
    void aDynamicBatchResNet18BecomesOneModelThatClassifiesItsTrainingImagesAsTrained() throws Exception {
        Path source = TestModels.resnet18();
        Path train = trainingFolders();
        Path out = dir.resolve("custom.onnx");
        LabeledImages images = LabeledImages.read(train, null, "--train");
        Adapter.Result result = Adapter.adapt(LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(),
                source.toString())), images, out, fitEverything(), LabeledImages.read(train, images.labels(), "--eval"));

        assertThat(result.labels()).isEqualTo(dir.resolve("custom.labels.txt"));
        assertThat(Files.readAllLines(result.labels())).containsExactly("left", "right");
        assertThat(result.featureCount()).isEqualTo(512);
        assertThat(result.holdout()).isNull();
        assertThat(result.evaluation().accuracy()).as(String.join("\n", result.evaluation().lines())).isEqualTo(1.0);

        ModelProto written = ModelProto.parseFrom(Files.readAllBytes(out));
        ModelProto original = ModelProto.parseFrom(Files.readAllBytes(source));
        assertThat(written.getIrVersion()).isEqualTo(original.getIrVersion());
        assertThat(written.getOpsetImportList()).isEqualTo(original.getOpsetImportList());
        List<NodeProto> nodes = written.getGraph().getNodeList();
        NodeProto gemm = nodes.get(nodes.size() - 1);
        assertThat(gemm.getOpType()).isEqualTo("Gemm");
        assertThat(gemm.getAttributeList()).extracting(AttributeProto::getName).contains("transB");
        assertThat(nodes.get(nodes.size() - 2).getOpType()).isEqualTo("Flatten");
        assertThat(nodes.stream().filter(n -> n.getOpType().equals("Gemm")).count()).isEqualTo(1);
        TensorProto weight = written.getGraph().getInitializerList().stream()
                .filter(t -> t.getName().equals(Head.WEIGHT)).findFirst().orElseThrow();
        assertThat(weight.getDimsList()).containsExactly(2L, 512L);
        TensorShapeProto shape = written.getGraph().getOutput(0).getType().getTensorType().getShape();
        assertThat(shape.getDim(0).getDimParam()).isEqualTo(original.getGraph().getInput(0).getType().getTensorType()
                .getShape().getDim(0).getDimParam());
        assertThat(shape.getDim(1).getDimValue()).isEqualTo(2);

        Map<String, String> meta = metadata(written);
        assertThat(meta.get(ModelMetadata.ADAPT)).isEqualTo(result.summary()).startsWith("adapt-2cls-8img-");
        assertThat(meta.get(ModelMetadata.ADAPT + ".source_sha256")).isEqualTo(LoadedModel.sha256(source));
        assertThat(meta.get(ModelMetadata.ADAPT + ".training_sha256")).isEqualTo(result.trainingSha256());
        assertThat(result.trainingSha256()).hasSize(64);

        // The same folders give the same digest and the same model; one more image changes the digest.
        Path again = dir.resolve("again.onnx");
        Adapter.Result repeated = Adapter.adapt(LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(),
                source.toString())), images, again, fitEverything(), null);
        assertThat(repeated.trainingSha256()).isEqualTo(result.trainingSha256());
        assertThat(Files.readAllBytes(again)).isEqualTo(Files.readAllBytes(out));

        // A model like any other: it loads with its labels and says what it is in its version, and quantizes.
        LoadedModel loaded = LoadedModel.load(out, result.labels(), null, SessionSettings.defaults());
        assertThat(loaded.labels().size()).isEqualTo(2);
        assertThat(loaded.identity().version()).contains(result.summary());
        Path int8 = dir.resolve("custom-int8.onnx");
        List<byte[]> calibration = images.files().stream().map(AdapterTest::bytes).toList();
        Quantizer.Result quantized = Quantizer.quantize(LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(),
                        out.toString(), Settings.MODEL_LABELS_PATH.key(), result.labels().toString())), calibration,
                images.files().stream().map(Path::toString).toList(), int8, Quantizer.Options.defaults(), List.of());
        assertThat(quantized.quantizedByOp()).containsKey("Gemm");
        assertThat(LoadedModel.load(int8, result.labels(), null, SessionSettings.defaults()).identity().version())
                .endsWith("+" + result.summary() + "+" + quantized.summary());
    }

    @Test
    void anNhwcModelWithAFixedBatchOfTwoKeepsBoth() throws Exception {
        Path source = dir.resolve("nhwc.onnx");
        ModelFiles.writeAtomically(nhwcFixedBatch(ModelProto.parseFrom(Files.readAllBytes(TestModels.resnet18())),
                2), source);
        Path train = trainingFolders();
        // Seven images: the last run of the fixed batch of two is padded.
        Files.delete(train.resolve("right/7.jpg"));
        Path out = dir.resolve("nhwc-custom.onnx");
        LabeledImages images = LabeledImages.read(train, null, "--train");
        Adapter.Result result = Adapter.adapt(LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(),
                source.toString())), images, out, fitEverything(), LabeledImages.read(train, images.labels(), "--eval"));
        assertThat(result.evaluation().accuracy()).isEqualTo(1.0);
        LoadedModel loaded = LoadedModel.load(out, result.labels(), null, SessionSettings.defaults());
        assertThat(loaded.input().layout()).isEqualTo(TensorLayout.NHWC);
        assertThat(loaded.input().fixedBatch()).isEqualTo(2);
    }

    @Test
    void aClassWithOneImageCannotBeHeldOutAndSaysWhatToDo() throws Exception {
        Path train = trainingFolders();
        Files.delete(train.resolve("right/1.jpg"));
        Files.delete(train.resolve("right/3.jpg"));
        Files.delete(train.resolve("right/5.jpg"));
        Files.write(train.resolve("right/broken.png"), new byte[] {1, 2, 3});
        LabeledImages images = LabeledImages.read(train, null, "--train");
        assertThatThrownBy(() -> Adapter.adapt(LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(),
                TestModels.resnet18().toString())), images, dir.resolve("x.onnx"), Adapter.Options.defaults(), null))
                .isInstanceOf(ModelException.class).hasMessageContaining("class 'right' has 1 usable training image")
                .hasMessageContaining("--holdout 0");
        assertThat(dir.resolve("x.onnx")).doesNotExist();
    }

    @Test
    void foldersThatAreNotClassesAreRefusedByName() throws Exception {
        Path flat = dir.resolve("flat");
        Files.createDirectories(flat);
        Files.write(flat.resolve("a.jpg"), SyntheticImages.jpeg(40, 40, 1));
        assertThatThrownBy(() -> LabeledImages.read(flat, null, "--train")).hasMessageContaining("no sub-folders")
                .hasMessageContaining("one folder per class");
        Files.createDirectories(flat.resolve("only"));
        Files.write(flat.resolve("only/b.jpg"), SyntheticImages.jpeg(40, 40, 2));
        assertThatThrownBy(() -> LabeledImages.read(flat, null, "--train")).hasMessageContaining("at least two");
        Files.createDirectories(flat.resolve("empty"));
        assertThatThrownBy(() -> LabeledImages.read(flat, null, "--train")).hasMessageContaining("no image files");
        Path train = trainingFolders();
        LabeledImages images = LabeledImages.read(train, null, "--train");
        assertThatThrownBy(() -> LabeledImages.read(flat, images.labels(), "--eval"))
                .hasMessageContaining("--eval: folder 'empty' is not one of the classes");
    }

    /** The same network taking [batch, 224, 224, 3]: a Transpose to NCHW in front, the batch fixed. */
    static ModelProto nhwcFixedBatch(ModelProto nchw, int batch) {
        GraphProto g = nchw.getGraph();
        String inner = g.getInput(0).getName();
        TypeProto type = TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(TensorShapeProto.newBuilder()
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(batch))
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(224))
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(224))
                        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(3)))).build();
        NodeProto transpose = NodeProto.newBuilder().setOpType("Transpose").setName("to_nchw").addInput("image_nhwc")
                .addOutput(inner).addAttribute(AttributeProto.newBuilder().setName("perm")
                        .setType(AttributeProto.AttributeType.INTS).addAllInts(List.of(0L, 3L, 1L, 2L))).build();
        GraphProto.Builder b = g.toBuilder().clearInput()
                .addInput(ValueInfoProto.newBuilder().setName("image_nhwc").setType(type)).clearNode()
                .addNode(transpose).addAllNode(g.getNodeList());
        return nchw.toBuilder().setGraph(b).build();
    }

    private static byte[] bytes(Path p) {
        try {
            return Files.readAllBytes(p);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
