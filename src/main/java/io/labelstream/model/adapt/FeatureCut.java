package io.labelstream.model.adapt;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.labelstream.model.ClassifierTail;
import io.labelstream.model.ModelException;
import io.labelstream.model.quantize.OnnxTensors;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static io.labelstream.model.OnnxNodes.describe;

/**
 * Where a pretrained classifier's features are, and the graph that computes only them: the input of the final
 * classifier (the global-average-pool output, flattened), found by walking back from the model's output over what
 * follows a classifier (bias adds, softmax, (de)quantization, reshapes), or the output of a node the user names.
 * A quantized feature tensor gets a DequantizeLinear with the scale and zero point its producer or classifier
 * declares, so the head always sees float features.
 */
public final class FeatureCut {

    /** The float [batch, features] tensor the backbone ends in, and the head's output. */
    static final String FEATURES = "labelstream_features";
    static final String LOGITS = "logits";

    /**
     * @param backbone    the source graph up to the features, ending in {@link #FEATURES} (float, flattened)
     * @param tensor      the source tensor the features are
     * @param description how it was found, for the user
     */
    public record Backbone(ModelProto backbone, String tensor, String description) {
    }

    private final GraphProto graph;
    private final ClassifierTail tail;

    private FeatureCut(GraphProto graph) {
        this.graph = graph;
        this.tail = new ClassifierTail(graph);
    }

    /**
     * @param featureNode a node name or tensor name to cut at, or null to find the classifier's input
     */
    public static Backbone cut(ModelProto model, String featureNode) throws ModelException {
        FeatureCut cut = new FeatureCut(model.getGraph());
        Feature feature = featureNode == null ? cut.classifierInput() : cut.named(featureNode);
        return new Backbone(cut.backbone(model, feature), feature.tensor, feature.description);
    }

    /** A feature tensor and, when it is quantized, the tensors holding its scale and zero point. */
    private record Feature(String tensor, String scale, String zeroPoint, String description) {
    }

    /** The classifier's input, as {@link ClassifierTail} finds it walking back from the output. */
    private Feature classifierInput() throws ModelException {
        try {
            ClassifierTail.Classifier classifier = tail.classifier();
            return new Feature(classifier.features(), classifier.scale(), classifier.zeroPoint(),
                    classifier.description());
        } catch (ModelException e) {
            throw new ModelException(e.getMessage() + "; name the feature node with --feature-node");
        }
    }

    private Feature named(String name) throws ModelException {
        String tensor = null;
        for (NodeProto n : graph.getNodeList()) {
            if (n.getName().equals(name)) {
                tensor = n.getOutput(0);
            }
        }
        if (tensor == null && tail.producer(name) != null) {
            tensor = name;
        }
        if (tensor == null) {
            throw new ModelException("--feature-node: the model has no node or tensor named '" + name + "'");
        }
        String[] quantization = tail.quantizationOf(tensor);
        NodeProto producer = tail.producer(tensor);
        int declared = declaredType(tensor);
        if (quantization == null && (declared == TensorProto.DataType.UINT8_VALUE
                || declared == TensorProto.DataType.INT8_VALUE)) {
            throw new ModelException("--feature-node: '" + tensor + "' is quantized (" + (declared
                    == TensorProto.DataType.UINT8_VALUE ? "uint8" : "int8") + ") by " + describe(producer) + ", whose"
                    + " scale labelstream cannot find; name a float tensor or one written by QuantizeLinear or a"
                    + " QLinear operator");
        }
        return new Feature(tensor, quantization == null ? null : quantization[0],
                quantization == null ? null : quantization[1], "'" + tensor + "', the output of " + describe(producer)
                + " (named with --feature-node)");
    }

    /** The element type value_info or the graph's outputs declare for a tensor, or 0 when none does. */
    private int declaredType(String tensor) {
        for (ValueInfoProto v : graph.getValueInfoList()) {
            if (v.getName().equals(tensor)) {
                return v.getType().getTensorType().getElemType();
            }
        }
        for (ValueInfoProto v : graph.getOutputList()) {
            if (v.getName().equals(tensor)) {
                return v.getType().getTensorType().getElemType();
            }
        }
        return 0;
    }

    /** The nodes, initializers and inputs the feature needs, then (DequantizeLinear and) Flatten to [batch, F]. */
    private ModelProto backbone(ModelProto model, Feature feature) throws ModelException {
        Set<String> needed = new HashSet<>();
        needed.add(feature.tensor);
        if (feature.scale != null) {
            needed.add(feature.scale);
            if (!feature.zeroPoint.isEmpty()) {
                needed.add(feature.zeroPoint);
            }
        }
        List<NodeProto> kept = new ArrayList<>();
        List<NodeProto> nodes = graph.getNodeList();
        // ONNX keeps nodes in topological order, so one pass from the end collects everything upstream.
        for (int i = nodes.size() - 1; i >= 0; i--) {
            NodeProto n = nodes.get(i);
            if (n.getOutputList().stream().anyMatch(needed::contains)) {
                kept.add(0, n);
                n.getInputList().stream().filter(s -> !s.isEmpty()).forEach(needed::add);
                for (AttributeProto a : n.getAttributeList()) {
                    if (a.hasG() || a.getGraphsCount() > 0) {
                        throw new ModelException("the backbone holds a " + n.getOpType() + " with a subgraph ("
                                + describe(n) + "); labelstream cannot cut such a model");
                    }
                }
            }
        }
        for (String reserved : List.of(FEATURES, FEATURES + "_q", LOGITS, Head.WEIGHT, Head.BIAS)) {
            // Only what the backbone keeps can collide: the source's own output often is "logits" too.
            if (needed.contains(reserved) || kept.stream().anyMatch(n -> n.getOutputList().contains(reserved))) {
                throw new ModelException("the model already has a tensor named '" + reserved + "'");
            }
        }
        GraphProto.Builder g = graph.toBuilder().clearNode().clearInitializer().clearInput().clearOutput()
                .clearValueInfo().addAllNode(kept);
        graph.getInitializerList().stream().filter(t -> needed.contains(t.getName())).forEach(g::addInitializer);
        graph.getInputList().stream().filter(i -> needed.contains(i.getName())).forEach(g::addInput);
        graph.getValueInfoList().stream().filter(v -> needed.contains(v.getName())).forEach(g::addValueInfo);
        String flat = feature.tensor;
        if (feature.scale != null) {
            long opset = OnnxTensors.defaultOpset(model);
            if (opset < 10) {
                throw new ModelException("the quantized feature tensor needs DequantizeLinear, which the model's"
                        + " opset " + opset + " lacks");
            }
            NodeProto.Builder dequantize = NodeProto.newBuilder().setOpType("DequantizeLinear")
                    .setName("labelstream_dequantize_features").addInput(feature.tensor).addInput(feature.scale)
                    .addOutput(FEATURES + "_q");
            if (!feature.zeroPoint.isEmpty()) {
                dequantize.addInput(feature.zeroPoint);
            }
            g.addNode(dequantize);
            flat = FEATURES + "_q";
        }
        g.addNode(NodeProto.newBuilder().setOpType("Flatten").setName("labelstream_flatten_features").addInput(flat)
                .addOutput(FEATURES).addAttribute(OnnxTensors.intAttribute("axis", 1)));
        g.addOutput(ValueInfoProto.newBuilder().setName(FEATURES).setType(TypeProto.newBuilder()
                .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE)
                        .setShape(TensorShapeProto.newBuilder().addDim(batchDim(model))
                                .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam("features"))))));
        return model.toBuilder().setGraph(g).build();
    }

    /** The first dimension of the image input, the batch, as the source declares it (fixed or named). */
    static TensorShapeProto.Dimension batchDim(ModelProto model) {
        Set<String> initializers = new HashSet<>();
        model.getGraph().getInitializerList().forEach(t -> initializers.add(t.getName()));
        for (ValueInfoProto in : model.getGraph().getInputList()) {
            if (!initializers.contains(in.getName()) && in.getType().getTensorType().getShape().getDimCount() > 0) {
                return in.getType().getTensorType().getShape().getDim(0);
            }
        }
        return TensorShapeProto.Dimension.newBuilder().setDimParam("batch").build();
    }
}
