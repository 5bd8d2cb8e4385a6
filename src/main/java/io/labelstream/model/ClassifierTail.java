package io.labelstream.model;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static io.labelstream.model.OnnxNodes.describe;

/**
 * The end of a classifier graph, found by walking back from its single output over what may follow a classifier
 * (bias adds, softmax, (de)quantization, reshapes) to the classifier itself (Gemm or MatMul, or their quantized
 * forms QGemm and QLinearMatMul), and from the features it reads on back to the global average pooling they come
 * from. {@code model adapt} cuts a backbone at the classifier; class activation maps read the pooling's input and
 * the classifier's weights.
 */
public final class ClassifierTail {

    /** Ops that may follow the classifier on the way to the output, through their first input. */
    private static final Set<String> AFTER_CLASSIFIER = Set.of("Softmax", "LogSoftmax", "Identity", "Dropout",
            "DequantizeLinear", "QuantizeLinear", "Reshape", "Flatten", "Squeeze", "Cast", "Add", "QLinearAdd",
            "Sigmoid");
    /** Ops that keep a quantized tensor's scale and zero point, so the walk back to its producer goes on. */
    private static final Set<String> KEEP_QUANTIZATION = Set.of("Reshape", "Flatten", "Squeeze", "Unsqueeze",
            "Transpose", "MaxPool", "Identity");
    /** Ops between a global pooling and the classifier that only reshape or (de)quantize the pooled vector. */
    private static final Set<String> AFTER_POOLING = Set.of("Reshape", "Flatten", "Squeeze", "Identity", "Dropout",
            "DequantizeLinear", "QuantizeLinear", "Cast");

    /**
     * What a classifier reads.
     *
     * @param node        the classifier: Gemm, MatMul, QGemm or QLinearMatMul
     * @param features    the tensor it multiplies with its weights
     * @param scale       the features' quantization scale tensor, or null when they are float
     * @param zeroPoint   their zero point tensor ("" when the node leaves it out); null when they are float
     * @param description how it was found, for the user
     */
    public record Classifier(NodeProto node, String features, String scale, String zeroPoint, String description) {
    }

    /**
     * The feature map a global average pooling turns into the classifier's features.
     *
     * @param node      GlobalAveragePool, QLinearGlobalAveragePool or a spatial ReduceMean
     * @param map       its input, [batch, channels, rows, cols]
     * @param scale     the map's quantization scale tensor, or null when it is float
     * @param zeroPoint its zero point tensor, or null when it is float
     */
    public record Pooling(NodeProto node, String map, String scale, String zeroPoint) {
    }

    private final GraphProto graph;
    private final Map<String, NodeProto> producers = new HashMap<>();
    private final Map<String, TensorProto> constants = new HashMap<>();
    /** Every Constant node's output, whichever attribute holds its value (value_float, value_ints, …). */
    private final java.util.Set<String> constantOutputs = new java.util.HashSet<>();

    public ClassifierTail(GraphProto graph) {
        this.graph = graph;
        for (NodeProto n : graph.getNodeList()) {
            for (String o : n.getOutputList()) {
                producers.put(o, n);
            }
            if (n.getOpType().equals("Constant")) {
                constantOutputs.add(n.getOutput(0));
                if (OnnxNodes.attribute(n, "value") != null) {
                    constants.put(n.getOutput(0), OnnxNodes.attribute(n, "value").getT());
                }
            }
        }
        graph.getInitializerList().forEach(t -> constants.put(t.getName(), t));
    }

    /** The node writing {@code tensor}, or null for a graph input or initializer. */
    public NodeProto producer(String tensor) {
        return producers.get(tensor);
    }

    public boolean isConstant(String tensor) {
        return constants.containsKey(tensor) || constantOutputs.contains(tensor);
    }

    /** An initializer's or Constant's value, or null when {@code tensor} is computed. */
    public TensorProto constant(String tensor) {
        return constants.get(tensor);
    }

    /**
     * The classifier the output comes from.
     *
     * @throws ModelException saying what the walk found instead
     */
    public Classifier classifier() throws ModelException {
        if (graph.getOutputCount() != 1) {
            throw new ModelException("the model has " + graph.getOutputCount() + " outputs");
        }
        String tensor = graph.getOutput(0).getName();
        List<String> path = new ArrayList<>();
        while (true) {
            NodeProto node = producers.get(tensor);
            if (node == null) {
                throw new ModelException("no classifier (Gemm, MatMul, QLinearMatMul, QGemm) found walking back from"
                        + " the output over " + path);
            }
            String op = node.getOpType();
            switch (op) {
                case "Gemm", "QGemm" -> {
                    if (OnnxNodes.intAttribute(node, "transA", 0) != 0) {
                        throw rightMultiplied(node);
                    }
                    // QGemm (com.microsoft): A, a_scale, a_zero_point, B, …
                    return op.equals("Gemm") ? atClassifier(node, null, null)
                            : atClassifier(node, node.getInput(1), input(node, 2));
                }
                case "MatMul" -> {
                    if (isConstant(node.getInput(0))) {
                        throw rightMultiplied(node);
                    }
                    return atClassifier(node, null, null);
                }
                case "QLinearMatMul" -> {
                    // a, a_scale, a_zero_point, b, b_scale, b_zero_point, y_scale, y_zero_point
                    if (isConstant(node.getInput(0))) {
                        throw rightMultiplied(node);
                    }
                    return atClassifier(node, node.getInput(1), node.getInput(2));
                }
                default -> {
                    if (!AFTER_CLASSIFIER.contains(op)) {
                        throw new ModelException("walking back from the output, " + describe(node) + " is neither a"
                                + " classifier (Gemm, MatMul, QLinearMatMul, QGemm) nor what follows one");
                    }
                    path.add(op);
                    tensor = firstActivation(node);
                }
            }
        }
    }

    /**
     * The global average pooling whose output {@code classifier} reads, through reshapes and (de)quantization only.
     *
     * @throws ModelException naming what the walk found where the pooling should be
     */
    public Pooling pooling(Classifier classifier) throws ModelException {
        String tensor = classifier.features();
        List<String> path = new ArrayList<>();
        while (true) {
            NodeProto node = producers.get(tensor);
            if (node == null) {
                throw new ModelException("the classifier " + describe(classifier.node()) + " reads '" + tensor
                        + "', which no global average pooling computes");
            }
            String op = node.getOpType();
            if (op.equals("GlobalAveragePool") || (op.equals("ReduceMean") && spatialMean(node))) {
                String[] quantization = quantizationOf(node.getInput(0));
                return new Pooling(node, node.getInput(0), quantization == null ? null : quantization[0],
                        quantization == null ? null : quantization[1]);
            }
            if (op.equals("QLinearGlobalAveragePool")) {
                // X, x_scale, x_zero_point, y_scale, y_zero_point
                return new Pooling(node, node.getInput(0), node.getInput(1), input(node, 2));
            }
            if (!AFTER_POOLING.contains(op)) {
                throw new ModelException("the classifier " + describe(classifier.node()) + " reads its features from "
                        + describe(node) + (path.isEmpty() ? "" : " (through " + path + ")") + ", not from a global"
                        + " average pooling");
            }
            path.add(op);
            tensor = node.getInput(0);
        }
    }

    /** A ReduceMean over the two spatial axes of an NCHW tensor, as some exporters write global pooling. */
    private boolean spatialMean(NodeProto node) {
        var axes = OnnxNodes.attribute(node, "axes");
        List<Long> values = new ArrayList<>();
        if (axes != null) {
            values.addAll(axes.getIntsList());
        } else if (node.getInputCount() > 1 && constant(node.getInput(1)) != null) { // opset 18: axes as an input
            for (float a : OnnxNodes.values(constant(node.getInput(1)))) {
                values.add((long) a);
            }
        }
        return values.size() == 2 && values.stream().allMatch(a -> a == 2 || a == 3 || a == -1 || a == -2)
                && !values.get(0).equals(values.get(1));
    }

    /** The features would come out [features, batch]: a head cannot be put after them as they are. */
    private static ModelException rightMultiplied(NodeProto classifier) {
        return new ModelException("the classifier " + describe(classifier) + " takes its features transposed (weights"
                + " on the left, or transA=1)");
    }

    /** An optional input: its name, or "" when the node leaves it out (a zero point defaults to 0). */
    public static String input(NodeProto node, int index) {
        return index < node.getInputCount() ? node.getInput(index) : "";
    }

    /** The classifier's first input, the features it reads (with their scale and zero point when quantized). */
    private Classifier atClassifier(NodeProto classifier, String scale, String zeroPoint) {
        String tensor = classifier.getInput(0);
        NodeProto producer = producers.get(tensor);
        String from = producer == null ? "" : ", the output of " + describe(producer);
        return new Classifier(classifier, tensor, scale, zeroPoint, "'" + tensor + "'" + from
                + ", the input of the classifier " + describe(classifier));
    }

    private String firstActivation(NodeProto node) {
        for (String in : node.getInputList()) {
            if (!isConstant(in) && !in.isEmpty()) {
                return in;
            }
        }
        return node.getInput(0);
    }

    /** The scale and zero point a quantized tensor was written with, or null for a float tensor. */
    public String[] quantizationOf(String tensor) {
        NodeProto node = producers.get(tensor);
        while (node != null && KEEP_QUANTIZATION.contains(node.getOpType())) {
            node = producers.get(node.getInput(0));
        }
        if (node == null) {
            return null;
        }
        return switch (node.getOpType()) {
            case "QuantizeLinear" -> new String[] {node.getInput(1), input(node, 2)};
            case "QLinearConv", "QLinearMatMul", "QLinearAdd", "QLinearMul" ->
                    new String[] {node.getInput(6), node.getInput(7)};
            case "QLinearGlobalAveragePool", "QLinearAveragePool", "QLinearSigmoid", "QLinearLeakyRelu" ->
                    new String[] {node.getInput(3), node.getInput(4)};
            // QGemm's y_scale (input 7) is there only when its output is quantized.
            case "QGemm" -> node.getInputCount() > 7 && !node.getInput(7).isEmpty()
                    ? new String[] {node.getInput(7), input(node, 8)} : null;
            default -> null;
        };
    }
}
