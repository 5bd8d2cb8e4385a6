package io.labelstream.model;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.labelstream.image.SourceRegion;

import static io.labelstream.model.OnnxNodes.describe;

/**
 * Class activation maps (Zhou et al., CVPR 2016) for a network that ends in global average pooling and a linear
 * classifier: class k's map is the sum over channels of its weight times the feature map that enters the pooling,
 * so the map's mean plus the bias is the class's logit, exactly. The model is rewritten at load to put that
 * feature map out as a second output of the same session: no second run, one copy of the map per image.
 */
public final class ClassActivationMaps {

    /** The output the rewritten graph adds: the pooling's input as float [batch, channels, rows, cols]. */
    public static final String MAP_OUTPUT = "labelstream_feature_map";

    private final ClassifierWeights weights;
    private final String tail;

    private ClassActivationMaps(ClassifierWeights weights, String tail) {
        this.weights = weights;
        this.tail = tail;
    }

    /** The maps, and the model whose session computes them. */
    public record Prepared(ModelProto model, ClassActivationMaps maps) {
    }

    /**
     * Finds the pooling-and-linear tail and adds its feature map as {@link #MAP_OUTPUT}, dequantized when the model
     * computes it in int8.
     *
     * @throws ModelException saying what tail the model has instead
     */
    public static Prepared prepare(ModelProto model) throws ModelException {
        GraphProto graph = model.getGraph();
        ClassifierTail tail = new ClassifierTail(graph);
        ClassifierTail.Classifier classifier;
        ClassifierTail.Pooling pooling;
        try {
            classifier = tail.classifier();
            pooling = tail.pooling(classifier);
        } catch (ModelException e) {
            throw new ModelException("class activation maps need a model that ends in global average pooling and a"
                    + " linear classifier; " + e.getMessage(), e);
        }
        ClassifierWeights weights = ClassifierWeights.of(tail, classifier);
        if (graph.getNodeList().stream().anyMatch(n -> n.getOutputList().contains(MAP_OUTPUT))) {
            throw new ModelException("the model already has a tensor named '" + MAP_OUTPUT + "'");
        }
        GraphProto.Builder g = graph.toBuilder();
        if (pooling.scale() != null) {
            NodeProto.Builder dequantize = NodeProto.newBuilder().setOpType("DequantizeLinear")
                    .setName("labelstream_dequantize_feature_map").addInput(pooling.map()).addInput(pooling.scale())
                    .addOutput(MAP_OUTPUT);
            if (!pooling.zeroPoint().isEmpty()) {
                dequantize.addInput(pooling.zeroPoint());
            }
            g.addNode(dequantize);
        } else {
            g.addNode(NodeProto.newBuilder().setOpType("Identity").setName("labelstream_feature_map")
                    .addInput(pooling.map()).addOutput(MAP_OUTPUT));
        }
        TensorShapeProto.Builder shape = TensorShapeProto.newBuilder();
        for (String dim : new String[] {"batch", "channels", "rows", "cols"}) {
            shape.addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("labelstream_" + dim));
        }
        g.addOutput(ValueInfoProto.newBuilder().setName(MAP_OUTPUT).setType(TypeProto.newBuilder().setTensorType(
                TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(shape))));
        String found = "the feature map '" + pooling.map() + "' entering " + describe(pooling.node()) + ", "
                + weights.channels() + " channels, and the classifier " + describe(classifier.node()) + " with "
                + weights.classes() + " classes";
        return new Prepared(model.toBuilder().setGraph(g).build(), new ClassActivationMaps(weights, found));
    }

    /** What the tail is, for the user. */
    public String tail() {
        return tail;
    }

    public int channels() {
        return weights.channels();
    }

    public int classes() {
        return weights.classes();
    }

    /**
     * One class's map for one image.
     *
     * @param maps   the feature maps of a batch, {@code channels × rows × cols} per image
     * @param offset where this image's start
     */
    public Activation activation(float[] maps, int offset, int rows, int cols, int classIndex, SourceRegion box) {
        int plane = rows * cols;
        float[] cam = new float[plane];
        float[] w = weights.values();
        int from = weights.offset(classIndex);
        for (int c = 0; c < weights.channels(); c++) {
            float weight = w[from + c];
            int base = offset + c * plane;
            for (int p = 0; p < plane; p++) {
                cam[p] += weight * maps[base + p];
            }
        }
        float max = 0f;
        for (float v : cam) {
            max = Math.max(max, v);
        }
        byte[] cells = new byte[plane];
        if (max > 0f) {
            for (int p = 0; p < plane; p++) {
                cells[p] = (byte) Math.round(Math.max(0f, cam[p]) / max * 255f);
            }
        }
        return new Activation(rows, cols, cells, box);
    }
}
