package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;

import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/** Small real ONNX graphs, one per pattern, and ways to run them and see what ONNX Runtime made of them. */
final class TinyGraphs {

    final GraphProto.Builder graph = GraphProto.newBuilder().setName("tiny");
    private final Random random = new Random(42);
    private int counter;

    TinyGraphs input(String name, long... dims) {
        graph.addInput(valueInfo(name, dims));
        return this;
    }

    TinyGraphs output(String name, long... dims) {
        graph.addOutput(valueInfo(name, dims));
        return this;
    }

    String weights(String name, float std, long... dims) {
        int n = 1;
        for (long d : dims) {
            n *= (int) d;
        }
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) random.nextGaussian() * std;
        }
        return constant(name, v, dims);
    }

    String constant(String name, float[] values, long... dims) {
        graph.addInitializer(OnnxTensors.floatTensor(name, values, dims));
        return name;
    }

    String conv(String in, int inChannels, int outChannels, boolean bias) {
        String w = weights("w" + counter, (float) Math.sqrt(2.0 / (inChannels * 9)), outChannels, inChannels, 3, 3);
        List<String> inputs = new ArrayList<>(List.of(in, w));
        if (bias) {
            inputs.add(weights("b" + counter, 0.1f, outChannels));
        }
        return node("Conv", inputs, ints("pads", 1, 1, 1, 1), ints("kernel_shape", 3, 3));
    }

    String node(String op, List<String> inputs, AttributeProto... attributes) {
        String out = op.toLowerCase() + "_" + (counter++);
        graph.addNode(NodeProto.newBuilder().setOpType(op).setName(out).addAllInput(inputs).addOutput(out)
                .addAllAttribute(List.of(attributes)));
        return out;
    }

    /** Renames the last node's output, e.g. to a graph output's name. */
    void nameLastOutput(String name) {
        int last = graph.getNodeCount() - 1;
        String old = graph.getNode(last).getOutput(0);
        graph.setNode(last, graph.getNode(last).toBuilder().setOutput(0, name));
        for (int i = 0; i < graph.getNodeCount(); i++) {
            NodeProto n = graph.getNode(i);
            for (int j = 0; j < n.getInputCount(); j++) {
                if (n.getInput(j).equals(old)) {
                    graph.setNode(i, graph.getNode(i).toBuilder().setInput(j, name));
                }
            }
        }
    }

    ModelProto model(int opset, long irVersion) {
        return ModelProto.newBuilder().setIrVersion(irVersion).setProducerName("labelstream-tests")
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph)
                .build();
    }

    static AttributeProto ints(String name, long... values) {
        AttributeProto.Builder b = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
        for (long v : values) {
            b.addInts(v);
        }
        return b.build();
    }

    static AttributeProto intAttr(String name, long value) {
        return OnnxTensors.intAttribute(name, value);
    }

    static AttributeProto floatAttr(String name, float value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.FLOAT).setF(value).build();
    }

    static ValueInfoProto valueInfo(String name, long... dims) {
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (long d : dims) {
            shape.addDim(d < 0 ? TensorShapeProto.Dimension.newBuilder().setDimParam("batch")
                    : TensorShapeProto.Dimension.newBuilder().setDimValue(d));
        }
        return ValueInfoProto.newBuilder().setName(name).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))).build();
    }

    /** {@code count} random inputs of {@code valuesPerImage} values each, uniform in [-1, 1]. */
    static List<float[]> images(int count, int valuesPerImage, long seed) {
        Random r = new Random(seed);
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            float[] v = new float[valuesPerImage];
            for (int j = 0; j < v.length; j++) {
                v[j] = r.nextFloat() * 2 - 1;
            }
            out.add(v);
        }
        return out;
    }

    /** Runs the model's single input → first output on one image (batch 1). */
    static float[] run(ModelProto model, float[] image, long... inputShape) throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions();
             OrtSession session = env.createSession(model.toByteArray(), options);
             OnnxTensor in = OnnxTensor.createTensor(env, FloatBuffer.wrap(image), inputShape);
             OrtSession.Result result = session.run(Map.of(model.getGraph().getInput(0).getName(), in))) {
            FloatBuffer out = ((OnnxTensor) result.get(0)).getFloatBuffer();
            float[] values = new float[out.remaining()];
            out.get(values);
            return values;
        }
    }

    /** The op types of the graph ONNX Runtime runs after its full optimisation, with their counts. */
    static Map<String, Integer> optimizedOps(ModelProto model, Path dir) throws Exception {
        Path file = Files.createTempFile(dir, "optimized", ".onnx");
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
            options.setOptimizedModelFilePath(file.toString());
            env.createSession(model.toByteArray(), options).close();
        }
        Map<String, Integer> ops = new TreeMap<>();
        for (NodeProto n : ModelProto.parseFrom(Files.readAllBytes(file)).getGraph().getNodeList()) {
            ops.merge(n.getOpType(), 1, Integer::sum);
        }
        return ops;
    }
}
