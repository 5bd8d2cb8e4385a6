package io.labelstream.model;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.StringStringEntryProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import com.google.protobuf.ByteString;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * Writes the ImageNet ResNet of He et al. 2015 (arXiv:1512.03385) as an ONNX model with deterministic, seeded,
 * untrained weights: a real topology for speed, shape and plumbing tests, never for meaningful labels.
 *
 * <p>Layout follows torchvision's resnet18 … resnet152 (the Model Zoo's v1 export): 7×7/2 stem convolution,
 * batch norm, ReLU, 3×3/2 max-pool, four stages of basic (18, 34) or bottleneck (50, 101, 152) blocks with projection shortcuts
 * where shape changes, global average pool, flatten and a 1000-way fully connected layer. Input {@code input}
 * [batch, 3, 224, 224] with a symbolic batch dimension; output {@code logits} [batch, 1000].
 */
public final class ResNetGenerator {

    /** The five depths of the paper (its Table 1), with their blocks per stage. */
    public enum Architecture {
        RESNET18(new int[] {2, 2, 2, 2}, false),
        RESNET34(new int[] {3, 4, 6, 3}, false),
        RESNET50(new int[] {3, 4, 6, 3}, true),
        RESNET101(new int[] {3, 4, 23, 3}, true),
        RESNET152(new int[] {3, 8, 36, 3}, true);

        final int[] blocksPerStage;
        final boolean bottleneck;

        Architecture(int[] blocksPerStage, boolean bottleneck) {
            this.blocksPerStage = blocksPerStage;
            this.bottleneck = bottleneck;
        }

        public String modelName() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }

        /** Roughly how many ResNet-18s of work one image is (the paper's FLOPs: 1.8, 3.6, 3.8, 7.6, 11.3 G). */
        public double relativeCost() {
            return switch (this) {
                case RESNET18 -> 1;
                case RESNET34 -> 2;
                case RESNET50 -> 2.1;
                case RESNET101 -> 4.2;
                case RESNET152 -> 6.3;
            };
        }

        public static Architecture parse(String text) {
            for (Architecture a : values()) {
                if (a.modelName().equalsIgnoreCase(text.replace("-", ""))) {
                    return a;
                }
            }
            throw new IllegalArgumentException("unknown architecture '" + text + "'; allowed: " + String.join(", ",
                    java.util.Arrays.stream(values()).map(Architecture::modelName).toList()));
        }
    }

    public static final String INPUT_NAME = "input";
    public static final String OUTPUT_NAME = "logits";
    public static final int IMAGE_SIZE = 224;
    public static final int CLASSES = 1000;
    public static final long DEFAULT_SEED = 20151210L;
    private static final int OPSET = 17;
    /** Scale of the last batch norm in each residual branch, so activations stay in a sane range with depth. */
    private static final float RESIDUAL_BRANCH_GAIN = 0.25f;

    private final Architecture architecture;
    private final Random random;
    private final GraphProto.Builder graph = GraphProto.newBuilder();
    private int nodeCounter;

    private ResNetGenerator(Architecture architecture, long seed) {
        this.architecture = architecture;
        this.random = new Random(seed);
    }

    /** Builds the model in memory. */
    public static ModelProto build(Architecture architecture, long seed) {
        return new ResNetGenerator(architecture, seed).buildModel(seed);
    }

    /** Builds the model and writes it atomically to {@code out}. */
    public static void write(Architecture architecture, long seed, Path out) throws IOException {
        ModelFiles.writeAtomically(build(architecture, seed), out);
    }

    private ModelProto buildModel(long seed) {
        String name = architecture.modelName();
        graph.setName(name + "-generated");
        graph.addInput(valueInfo(INPUT_NAME, 3, IMAGE_SIZE, IMAGE_SIZE));
        graph.addOutput(valueInfo(OUTPUT_NAME, CLASSES));

        String x = conv(INPUT_NAME, 3, 64, 7, 2, 3, "stem");
        x = batchNorm(x, 64, 1.0f, "stem");
        x = relu(x);
        x = node("MaxPool", List.of(x), List.of(
                ints("kernel_shape", 3, 3), ints("strides", 2, 2), ints("pads", 1, 1, 1, 1)));

        int channels = 64;
        int[] widths = {64, 128, 256, 512};
        for (int stage = 0; stage < 4; stage++) {
            for (int block = 0; block < architecture.blocksPerStage[stage]; block++) {
                int stride = (stage > 0 && block == 0) ? 2 : 1;
                String prefix = "layer" + (stage + 1) + "." + block;
                if (architecture.bottleneck) {
                    x = bottleneckBlock(x, channels, widths[stage], stride, prefix);
                    channels = widths[stage] * 4;
                } else {
                    x = basicBlock(x, channels, widths[stage], stride, prefix);
                    channels = widths[stage];
                }
            }
        }
        x = node("GlobalAveragePool", List.of(x), List.of());
        x = node("Flatten", List.of(x), List.of(intAttr("axis", 1)));
        String weight = initializer("fc.weight", gaussian(CLASSES * channels, (float) Math.sqrt(1.0 / channels)),
                CLASSES, channels);
        String bias = initializer("fc.bias", new float[CLASSES], CLASSES);
        graph.addNode(NodeProto.newBuilder().setOpType("Gemm").setName("fc")
                .addInput(x).addInput(weight).addInput(bias).addOutput(OUTPUT_NAME)
                .addAttribute(intAttr("transB", 1)));

        return ModelProto.newBuilder()
                .setIrVersion(8)
                .setProducerName("labelstream")
                .setProducerVersion("1")
                .setDomain("io.labelstream.generated")
                .setModelVersion(1)
                .setDocString("ResNet topology (He et al. 2015) with seeded, UNTRAINED weights: labels are meaningless.")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(OPSET))
                .addMetadataProps(meta("labelstream.architecture", name))
                .addMetadataProps(meta("labelstream.seed", Long.toString(seed)))
                .addMetadataProps(meta("labelstream.trained", "false"))
                .setGraph(graph)
                .build();
    }

    private String basicBlock(String in, int inChannels, int width, int stride, String prefix) {
        String y = relu(batchNorm(conv(in, inChannels, width, 3, stride, 1, prefix + ".conv1"), width, 1.0f,
                prefix + ".bn1"));
        y = batchNorm(conv(y, width, width, 3, 1, 1, prefix + ".conv2"), width, RESIDUAL_BRANCH_GAIN,
                prefix + ".bn2");
        String shortcut = shortcut(in, inChannels, width, stride, prefix);
        return relu(node("Add", List.of(y, shortcut), List.of()));
    }

    private String bottleneckBlock(String in, int inChannels, int width, int stride, String prefix) {
        int out = width * 4;
        String y = relu(batchNorm(conv(in, inChannels, width, 1, 1, 0, prefix + ".conv1"), width, 1.0f,
                prefix + ".bn1"));
        // torchvision's v1.5 places the stride on the 3×3 convolution.
        y = relu(batchNorm(conv(y, width, width, 3, stride, 1, prefix + ".conv2"), width, 1.0f, prefix + ".bn2"));
        y = batchNorm(conv(y, width, out, 1, 1, 0, prefix + ".conv3"), out, RESIDUAL_BRANCH_GAIN, prefix + ".bn3");
        String shortcut = shortcut(in, inChannels, out, stride, prefix);
        return relu(node("Add", List.of(y, shortcut), List.of()));
    }

    private String shortcut(String in, int inChannels, int outChannels, int stride, String prefix) {
        if (stride == 1 && inChannels == outChannels) {
            return in;
        }
        String projected = conv(in, inChannels, outChannels, 1, stride, 0, prefix + ".downsample.0");
        return batchNorm(projected, outChannels, 1.0f, prefix + ".downsample.1");
    }

    private String conv(String in, int inChannels, int outChannels, int kernel, int stride, int pad, String name) {
        int fanIn = inChannels * kernel * kernel;
        // He (Kaiming) normal initialisation keeps the signal's variance through ReLU layers.
        String w = initializer(name + ".weight", gaussian(outChannels * fanIn, (float) Math.sqrt(2.0 / fanIn)),
                outChannels, inChannels, kernel, kernel);
        return node("Conv", List.of(in, w), List.of(
                ints("kernel_shape", kernel, kernel), ints("strides", stride, stride),
                ints("pads", pad, pad, pad, pad)));
    }

    private String batchNorm(String in, int channels, float gain, String name) {
        float[] scale = new float[channels];
        float[] bias = new float[channels];
        float[] mean = new float[channels];
        float[] variance = new float[channels];
        for (int c = 0; c < channels; c++) {
            // Small deterministic spread so the layer is a real affine map, not an identity ORT could drop.
            scale[c] = gain * (1.0f + 0.05f * (float) random.nextGaussian());
            bias[c] = 0.02f * (float) random.nextGaussian();
            mean[c] = 0.02f * (float) random.nextGaussian();
            variance[c] = 1.0f + 0.05f * Math.abs((float) random.nextGaussian());
        }
        return node("BatchNormalization", List.of(in,
                        initializer(name + ".scale", scale, channels),
                        initializer(name + ".bias", bias, channels),
                        initializer(name + ".running_mean", mean, channels),
                        initializer(name + ".running_var", variance, channels)),
                List.of(AttributeProto.newBuilder().setName("epsilon").setType(AttributeProto.AttributeType.FLOAT)
                        .setF(1e-5f).build()));
    }

    private String relu(String in) {
        return node("Relu", List.of(in), List.of());
    }

    private String node(String op, List<String> inputs, List<AttributeProto> attributes) {
        String output = op.toLowerCase(java.util.Locale.ROOT) + "_" + (nodeCounter++);
        graph.addNode(NodeProto.newBuilder().setOpType(op).setName(output)
                .addAllInput(inputs).addOutput(output).addAllAttribute(attributes));
        return output;
    }

    private String initializer(String name, float[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        graph.addInitializer(TensorProto.newBuilder().setName(name)
                .setDataType(TensorProto.DataType.FLOAT.getNumber())
                .addAllDims(Arrays.stream(dims).boxed().toList())
                .setRawData(ByteString.copyFrom(raw.array())));
        return name;
    }

    private float[] gaussian(int count, float std) {
        float[] values = new float[count];
        for (int i = 0; i < count; i++) {
            values[i] = (float) random.nextGaussian() * std;
        }
        return values;
    }

    private static ValueInfoProto valueInfo(String name, int... trailingDims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder()
                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("batch"));
        for (int d : trailingDims) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT.getNumber()).setShape(shape)))
                .build();
    }

    private static AttributeProto ints(String name, long... values) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS)
                .addAllInts(Arrays.stream(values).boxed().toList()).build();
    }

    private static AttributeProto intAttr(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    private static StringStringEntryProto meta(String key, String value) {
        return StringStringEntryProto.newBuilder().setKey(key).setValue(value).build();
    }
}
