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
import com.google.protobuf.ByteString;
import io.labelstream.image.PreprocessRecipe;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A tiny real ONNX classifier that ONNX Runtime cannot run on some inputs: it looks up row
 * {@code max(pixel)} of a 100×10 table with Gather, so an image whose brightest value is 100 or more makes the
 * whole batch's inference throw (index out of bounds). Its class for a good image is
 * {@code argmax(table[max pixel])}. Used with {@link #RECIPE} (32×32, 0–255, no normalisation).
 */
public final class PoisonableModel {

    public static final int CLASSES = 10;
    public static final int ROWS = 100;
    public static final PreprocessRecipe RECIPE = new PreprocessRecipe("raw32", PreprocessRecipe.ResizeMode.EXACT, 32,
            32, 32, PreprocessRecipe.PixelScale.BYTE, new float[] {0, 0, 0}, new float[] {1, 1, 1},
            PreprocessRecipe.ChannelOrder.RGB, false);

    private PoisonableModel() {
    }

    /** Row r of the table: logit 5 for class r mod 10, 0 elsewhere. */
    public static int classFor(int maxPixel) {
        return maxPixel % CLASSES;
    }

    public static Path file() {
        return file(0);
    }

    /**
     * The same model with its classes shifted: a good image's class is {@code (max pixel + shift) mod 10}, so two
     * shifts are two models that tell apart which one labeled an image.
     */
    public static int classFor(int maxPixel, int shift) {
        return (maxPixel + shift) % CLASSES;
    }

    public static Path file(int shift) {
        return file(shift, ROWS);
    }

    /** With a table of {@code rows} rows: an image whose brightest value is {@code rows} or more is its poison. */
    public static synchronized Path file(int shift, int rows) {
        Path file = Path.of("target", "test-models", shift == 0 && rows == ROWS ? "poisonable.onnx"
                : "poisonable-shift" + shift + "-rows" + rows + ".onnx").toAbsolutePath();
        if (Files.isRegularFile(file)) {
            return file;
        }
        ByteBuffer table = ByteBuffer.allocate(rows * CLASSES * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < CLASSES; c++) {
                table.putFloat(c == classFor(r, shift) ? 5f : 0f);
            }
        }
        GraphProto graph = GraphProto.newBuilder().setName("poisonable")
                .addInput(value("input", TensorProto.DataType.FLOAT, 3, 32, 32))
                .addOutput(value("output", TensorProto.DataType.FLOAT, CLASSES))
                .addInitializer(TensorProto.newBuilder().setName("table").setDataType(TensorProto.DataType.FLOAT_VALUE)
                        .addAllDims(List.of((long) rows, (long) CLASSES)).setRawData(ByteString.copyFrom(table.array())))
                .addNode(NodeProto.newBuilder().setOpType("ReduceMax").addInput("input").addOutput("max")
                        .addAttribute(AttributeProto.newBuilder().setName("axes").setType(AttributeProto.AttributeType.INTS)
                                .addAllInts(List.of(1L, 2L, 3L)))
                        .addAttribute(AttributeProto.newBuilder().setName("keepdims")
                                .setType(AttributeProto.AttributeType.INT).setI(0)))
                .addNode(NodeProto.newBuilder().setOpType("Cast").addInput("max").addOutput("index")
                        .addAttribute(AttributeProto.newBuilder().setName("to").setType(AttributeProto.AttributeType.INT)
                                .setI(TensorProto.DataType.INT64_VALUE)))
                .addNode(NodeProto.newBuilder().setOpType("Gather").addInput("table").addInput("index")
                        .addOutput("output")
                        .addAttribute(AttributeProto.newBuilder().setName("axis").setType(AttributeProto.AttributeType.INT)
                                .setI(0)))
                .build();
        ModelProto model = ModelProto.newBuilder().setIrVersion(8).setProducerName("labelstream-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(13)).setGraph(graph).build();
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, model.toByteArray());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return file;
    }

    private static ValueInfoProto value(String name, TensorProto.DataType type, int... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
        for (int d : dims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(type.getNumber()).setShape(shape))).build();
    }

    /** A flat 32×32 PNG whose every channel value is {@code level}: poison when level ≥ 100. */
    public static byte[] image(int level) {
        java.awt.image.BufferedImage image = new java.awt.image.BufferedImage(32, 32,
                java.awt.image.BufferedImage.TYPE_3BYTE_BGR);
        byte[] data = ((java.awt.image.DataBufferByte) image.getRaster().getDataBuffer()).getData();
        java.util.Arrays.fill(data, (byte) level);
        return io.labelstream.image.SyntheticImages.png(image);
    }
}
