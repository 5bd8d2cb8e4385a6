package io.labelstream.testing;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.quantize.OnnxTensors;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A classifier whose class activation maps are known by construction: 224² ImageNet-normalized input, one
 * 32 × 32 stride-32 convolution with two channels (one sums red minus green and blue over its patch, the other
 * green minus red and blue), ReLU, global average pooling and a Gemm that copies channel k to class k. Class
 * "red" can only come from red pixels, so its map is where they are, on a 7 × 7 grid like ResNet-50's.
 */
public final class ColourModel {

    public static final List<String> LABELS = List.of("red", "green");

    /**
     * A pipeline on {@code bootstrap} that labels with this model (written into {@code dir}) and flags every image
     * whose red cell makes p(red) reach 0.7 (one red cell of 49 gives about 0.78): one partition, top 2.
     */
    public static java.util.Map<String, String> flaggingPipeline(String bootstrap, String app, Path dir)
            throws IOException {
        java.util.Map<String, String> s = PipelineSettings.of(bootstrap, app, write(dir.resolve("colour.onnx")),
                dir.resolve("state-" + app));
        s.put("flagged.topic", app + "-flagged");
        s.put("topics.partitions", "1");
        s.put("model.labels.path", labels(dir.resolve("labels.txt")).toString());
        s.put("model.top.k", "2");
        s.put("moderation.rules", "reds:label=red>=0.7");
        return s;
    }

    private ColourModel() {
    }

    /** The model, ending in pooling and a Gemm. */
    public static Path write(Path file) throws IOException {
        return write(file, true);
    }

    /** The same convolution, but classified from the flattened grid: no pooling, so no class activation map. */
    public static Path writeWithoutPooling(Path file) throws IOException {
        return write(file, false);
    }

    public static Path labels(Path file) throws IOException {
        return Files.write(file, LABELS);
    }

    private static Path write(Path file, boolean pooled) throws IOException {
        float[] conv = new float[2 * 3 * 32 * 32];
        for (int out = 0; out < 2; out++) {
            for (int in = 0; in < 3; in++) {
                // Channel 0 looks for red (input channel 0), channel 1 for green (input channel 1).
                float sign = in == out ? 1f : -1f;
                for (int p = 0; p < 32 * 32; p++) {
                    conv[((out * 3) + in) * 1024 + p] = sign / 1024f;
                }
            }
        }
        GraphProto.Builder g = GraphProto.newBuilder().setName("colour")
                .addInput(value("input", TensorProto.DataType.FLOAT, "batch", 3, 224, 224))
                .addOutput(value("output", TensorProto.DataType.FLOAT, "batch", 2))
                .addInitializer(OnnxTensors.floatTensor("conv.weight", conv, 2, 3, 32, 32))
                .addNode(node("Conv", List.of("input", "conv.weight"), "grid",
                        ints("kernel_shape", 32, 32), ints("strides", 32, 32)))
                .addNode(node("Relu", List.of("grid"), "relu"));
        if (pooled) {
            g.addInitializer(OnnxTensors.floatTensor("fc.weight", new float[] {10, 0, 0, 10}, 2, 2))
                    .addInitializer(OnnxTensors.floatTensor("fc.bias", new float[] {0, 0}, 2))
                    .addNode(node("GlobalAveragePool", List.of("relu"), "pooled"))
                    .addNode(node("Flatten", List.of("pooled"), "features"))
                    .addNode(node("Gemm", List.of("features", "fc.weight", "fc.bias"), "output",
                            OnnxTensors.intAttribute("transB", 1)));
        } else {
            float[] fc = new float[2 * 98];
            for (int k = 0; k < 2; k++) {
                for (int p = 0; p < 49; p++) {
                    fc[k * 98 + k * 49 + p] = 1f;
                }
            }
            g.addInitializer(OnnxTensors.floatTensor("fc.weight", fc, 2, 98))
                    .addNode(node("Flatten", List.of("relu"), "features"))
                    .addNode(node("Gemm", List.of("features", "fc.weight"), "output",
                            OnnxTensors.intAttribute("transB", 1)));
        }
        ModelProto model = ModelProto.newBuilder().setIrVersion(7).setProducerName("labelstream-test")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
        Files.write(file, model.toByteArray());
        return file;
    }

    /**
     * A grey {@code width × height} PNG with a red (or green) square of {@code side} pixels at {@code (x, y)}.
     */
    public static byte[] squareImage(int width, int height, int x, int y, int side, Color colour) {
        return SyntheticImages.png(square(width, height, x, y, side, colour));
    }

    /** As {@link #squareImage}, not yet encoded. */
    public static BufferedImage square(int width, int height, int x, int y, int side, Color colour) {
        return rectangle(width, height, x, y, side, side, colour);
    }

    /** A grey {@code width × height} PNG with a red (or green) {@code w × h} rectangle at {@code (x, y)}. */
    public static byte[] rectangleImage(int width, int height, int x, int y, int w, int h, Color colour) {
        return SyntheticImages.png(rectangle(width, height, x, y, w, h, colour));
    }

    private static BufferedImage rectangle(int width, int height, int x, int y, int w, int h, Color colour) {
        BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(new Color(128, 128, 128));
        g.fillRect(0, 0, width, height);
        g.setColor(colour);
        g.fillRect(x, y, w, h);
        g.dispose();
        return image;
    }

    private static NodeProto node(String op, List<String> inputs, String output, AttributeProto... attributes) {
        return NodeProto.newBuilder().setOpType(op).setName(output).addAllInput(inputs).addOutput(output)
                .addAllAttribute(List.of(attributes)).build();
    }

    private static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            a.addInts(v);
        }
        return a.build();
    }

    private static ValueInfoProto value(String name, TensorProto.DataType type, String batch, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
        for (long d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }
}
