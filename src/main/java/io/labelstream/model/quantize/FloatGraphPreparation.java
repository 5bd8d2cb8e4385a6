package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.labelstream.model.ModelException;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Brings an fp32 model to the form the QDQ rewrite needs, still in fp32 and computing the same function: default
 * opset 13 or later (ONNX Runtime matches QuantizeLinear/DequantizeLinear only at their versions 10, 13, 19 and 21,
 * so a model older than opset 13 is upgraded, op by op, and one newer than 21 is refused), IR version 7 or later
 * with no initializer listed as a graph input (ONNX Runtime treats those as overridable and folds nothing into
 * them), BatchNormalization folded into the convolution before it, and Dropout and Identity removed.
 */
final class FloatGraphPreparation {

    static final int TARGET_OPSET = 13;
    static final int NEWEST_OPSET = 21;
    private static final int OLDEST_OPSET = 7;

    /** Ops whose meaning did not change between opset 7 and 13 (for the attributes they kept). */
    private static final Set<String> UNCHANGED_SINCE_7 = Set.of("Conv", "ConvTranspose", "Relu", "LeakyRelu",
            "Sigmoid", "Tanh", "Add", "Sub", "Mul", "Div", "Sum", "Max", "Min", "Mean", "GlobalAveragePool",
            "GlobalMaxPool", "AveragePool", "MaxPool", "Reshape", "Flatten", "Gemm", "MatMul", "Concat", "Transpose",
            "Shape", "Gather", "Cast", "Constant", "ReduceMean", "ReduceMax", "ReduceSum", "Exp", "Sqrt", "Pow",
            "Neg", "Abs", "PRelu", "Elu", "Selu", "HardSigmoid", "Erf", "Floor", "Ceil", "Reciprocal", "Log",
            "Expand", "Where", "Equal", "Less", "Greater", "Not", "And", "Or", "ArgMax", "ArgMin", "LRN",
            "InstanceNormalization");

    private final GraphProto.Builder graph;
    private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
    private int opset;

    private FloatGraphPreparation(ModelProto model) {
        this.graph = model.getGraph().toBuilder();
        model.getGraph().getInitializerList().forEach(t -> initializers.put(t.getName(), t));
    }

    static ModelProto prepare(ModelProto model) throws ModelException {
        long opset = OnnxTensors.defaultOpset(model);
        if (opset < OLDEST_OPSET) {
            throw new ModelException("the model uses ONNX opset " + opset + "; quantization needs opset "
                    + OLDEST_OPSET + " or later (upgrade it with onnx.version_converter first)");
        }
        if (opset > NEWEST_OPSET) {
            throw new ModelException("the model uses ONNX opset " + opset + "; ONNX Runtime fuses QDQ int8 only up "
                    + "to opset " + NEWEST_OPSET + " here");
        }
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            if (!o.getDomain().isEmpty() && !o.getDomain().equals("ai.onnx")) {
                throw new ModelException("the model uses operators of domain '" + o.getDomain()
                        + "'; only standard ONNX models can be quantized");
            }
        }
        FloatGraphPreparation p = new FloatGraphPreparation(model);
        p.opset = (int) opset;
        p.refuseQuantized();
        if (opset < TARGET_OPSET) {
            p.upgradeOps();
        }
        p.removePassThroughs();
        p.foldBatchNorms();
        p.graph.clearInitializer().addAllInitializer(p.initializers.values());
        // Initializers are constants of the model, not inputs a caller may override.
        List<ValueInfoProto> inputs = new ArrayList<>();
        for (ValueInfoProto in : p.graph.getInputList()) {
            if (!p.initializers.containsKey(in.getName())) {
                inputs.add(in);
            }
        }
        p.graph.clearInput().addAllInput(inputs);
        return model.toBuilder()
                .setIrVersion(Math.max(model.getIrVersion(), 7))
                .clearOpsetImport()
                .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(Math.max(opset, TARGET_OPSET)))
                .setGraph(p.graph)
                .build();
    }

    private void refuseQuantized() throws ModelException {
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().startsWith("QLinear") || n.getOpType().equals("QuantizeLinear")
                    || n.getOpType().equals("DequantizeLinear") || n.getOpType().endsWith("Integer")) {
                throw new ModelException("the model is already quantized (it has a " + n.getOpType()
                        + " node); quantize its fp32 original");
            }
        }
    }

    /** Rewrites each node from the model's opset to {@link #TARGET_OPSET}, refusing ops whose meaning changed. */
    private void upgradeOps() throws ModelException {
        Map<String, String> producers = new HashMap<>();
        graph.getNodeList().forEach(n -> n.getOutputList().forEach(o -> producers.put(o, n.getOpType())));
        List<NodeProto> upgraded = new ArrayList<>();
        for (NodeProto node : graph.getNodeList()) {
            NodeProto n = OnnxTensors.withoutAttributes(node, "consumed_inputs").build();
            switch (n.getOpType()) {
                case "BatchNormalization" -> {
                    if (OnnxTensors.intAttribute(n, "spatial", 1) != 1) {
                        throw new ModelException(OnnxTensors.describe(n) + " has spatial=0, which opset "
                                + TARGET_OPSET + " no longer has");
                    }
                    upgraded.add(OnnxTensors.withoutAttributes(n, "spatial", "is_test").build());
                }
                case "Clip" -> upgraded.add(clipWithInputs(n));
                case "Squeeze", "Unsqueeze" -> upgraded.add(axesAsInput(n));
                case "Dropout", "Identity" -> upgraded.add(n); // removed afterwards
                case "Softmax", "LogSoftmax", "Hardmax" -> {
                    // Before opset 13 these flattened the input to 2-D at `axis`; on a 2-D input that is the same.
                    String from = producers.get(n.getInput(0));
                    long axis = OnnxTensors.intAttribute(n, "axis", 1);
                    if (axis != 1 || !("Gemm".equals(from) || "Flatten".equals(from) || "MatMul".equals(from))) {
                        throw new ModelException("cannot upgrade " + OnnxTensors.describe(n) + " from opset "
                                + opset + " to " + TARGET_OPSET + ": its meaning changed unless its input is 2-D");
                    }
                    upgraded.add(n);
                }
                default -> {
                    if (!UNCHANGED_SINCE_7.contains(n.getOpType())) {
                        throw new ModelException("cannot upgrade " + OnnxTensors.describe(n) + " from opset " + opset
                                + " to " + TARGET_OPSET + " (QDQ needs " + TARGET_OPSET + "+); upgrade the model with "
                                + "onnx.version_converter first");
                    }
                    upgraded.add(n);
                }
            }
        }
        graph.clearNode().addAllNode(upgraded);
    }

    /** Clip-6 took min and max as attributes; Clip-11 takes them as inputs. */
    private NodeProto clipWithInputs(NodeProto n) {
        if (n.getInputCount() > 1) {
            return n; // already the newer form
        }
        String base = n.getOutput(0);
        String min = unique(base + "_clip_min");
        String max = unique(base + "_clip_max");
        initializers.put(min, OnnxTensors.floatTensor(min, new float[] {OnnxTensors.floatAttribute(n, "min",
                -Float.MAX_VALUE)}));
        initializers.put(max, OnnxTensors.floatTensor(max, new float[] {OnnxTensors.floatAttribute(n, "max",
                Float.MAX_VALUE)}));
        return OnnxTensors.withoutAttributes(n, "min", "max").addInput(min).addInput(max).build();
    }

    /** Squeeze-1 and Unsqueeze-1 took axes as an attribute; version 13 takes an int64 input. */
    private NodeProto axesAsInput(NodeProto n) {
        List<Long> axes = OnnxTensors.intsAttribute(n, "axes");
        if (axes == null) {
            return n;
        }
        String name = unique(n.getOutput(0) + "_axes");
        initializers.put(name, OnnxTensors.int64Tensor(name, axes.stream().mapToLong(Long::longValue).toArray(),
                axes.size()));
        return OnnxTensors.withoutAttributes(n, "axes").addInput(name).build();
    }

    /** Dropout and Identity do nothing at inference; their consumers read their input instead. */
    private void removePassThroughs() throws ModelException {
        Set<String> graphOutputs = graphOutputs();
        Map<String, String> renamed = new HashMap<>();
        List<NodeProto> kept = new ArrayList<>();
        for (NodeProto n : graph.getNodeList()) {
            boolean passThrough = n.getOpType().equals("Identity") || n.getOpType().equals("Dropout");
            if (passThrough && n.getOutputCount() > 1 && !n.getOutput(1).isEmpty() && isUsed(n.getOutput(1))) {
                throw new ModelException(OnnxTensors.describe(n) + ": its mask output is used; cannot remove it");
            }
            if (passThrough && !graphOutputs.contains(n.getOutput(0))) {
                renamed.put(n.getOutput(0), resolve(renamed, n.getInput(0)));
                continue;
            }
            kept.add(n);
        }
        List<NodeProto> rewired = new ArrayList<>();
        for (NodeProto n : kept) {
            NodeProto.Builder b = n.toBuilder();
            for (int i = 0; i < n.getInputCount(); i++) {
                b.setInput(i, resolve(renamed, n.getInput(i)));
            }
            NodeProto node = b.build();
            if ((node.getOpType().equals("Dropout")) && graphOutputs.contains(node.getOutput(0))) {
                node = NodeProto.newBuilder().setOpType("Identity").setName(node.getName())
                        .addInput(node.getInput(0)).addOutput(node.getOutput(0)).build();
            }
            rewired.add(node);
        }
        graph.clearNode().addAllNode(rewired);
    }

    private static String resolve(Map<String, String> renamed, String name) {
        String r = name;
        while (renamed.containsKey(r)) {
            r = renamed.get(r);
        }
        return r;
    }

    private boolean isUsed(String tensor) {
        return graph.getNodeList().stream().anyMatch(n -> n.getInputList().contains(tensor))
                || graphOutputs().contains(tensor);
    }

    /**
     * Conv → BatchNormalization becomes one Conv: W'[o] = W[o]·γ[o]/√(σ²[o]+ε), B'[o] = (B[o]−μ[o])·γ[o]/√(σ²[o]+ε)
     * + β[o], when the convolution's output feeds only that BatchNormalization and every parameter is a constant.
     */
    private void foldBatchNorms() {
        Map<String, Integer> uses = new HashMap<>();
        graph.getNodeList().forEach(n -> n.getInputList().forEach(i -> uses.merge(i, 1, Integer::sum)));
        Set<String> graphOutputs = graphOutputs();
        Map<String, NodeProto> convByOutput = new HashMap<>();
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("Conv") && initializers.containsKey(n.getInput(1))
                    && (n.getInputCount() < 3 || initializers.containsKey(n.getInput(2)))) {
                convByOutput.put(n.getOutput(0), n);
            }
        }
        Map<String, NodeProto> foldedConvs = new HashMap<>(); // by the BN output they now produce
        Set<NodeProto> removed = new HashSet<>();
        for (NodeProto bn : graph.getNodeList()) {
            if (!bn.getOpType().equals("BatchNormalization") || bn.getOutputCount() != 1) {
                continue;
            }
            NodeProto conv = convByOutput.get(bn.getInput(0));
            if (conv == null || uses.getOrDefault(conv.getOutput(0), 0) != 1 || graphOutputs.contains(conv.getOutput(0))
                    || !bn.getInputList().subList(1, 5).stream().allMatch(initializers::containsKey)) {
                continue;
            }
            float[] gamma = OnnxTensors.floats(initializers.get(bn.getInput(1)));
            float[] beta = OnnxTensors.floats(initializers.get(bn.getInput(2)));
            float[] mean = OnnxTensors.floats(initializers.get(bn.getInput(3)));
            float[] var = OnnxTensors.floats(initializers.get(bn.getInput(4)));
            double eps = OnnxTensors.floatAttribute(bn, "epsilon", 1e-5f);
            TensorProto w = initializers.get(conv.getInput(1));
            float[] weights = OnnxTensors.floats(w);
            int out = gamma.length;
            int perChannel = weights.length / out;
            float[] bias = conv.getInputCount() > 2 ? OnnxTensors.floats(initializers.get(conv.getInput(2)))
                    : new float[out];
            float[] newBias = new float[out];
            for (int o = 0; o < out; o++) {
                double factor = gamma[o] / Math.sqrt(var[o] + eps);
                for (int i = 0; i < perChannel; i++) {
                    weights[o * perChannel + i] = (float) (weights[o * perChannel + i] * factor);
                }
                newBias[o] = (float) ((bias[o] - mean[o]) * factor + beta[o]);
            }
            String wName = unique(conv.getInput(1) + "_bn_folded");
            String bName = unique(conv.getInput(1) + "_bn_folded_bias");
            initializers.put(wName, OnnxTensors.floatTensor(wName, weights, OnnxTensors.dims(w)));
            initializers.put(bName, OnnxTensors.floatTensor(bName, newBias, out));
            NodeProto.Builder folded = conv.toBuilder().clearInput().addInput(conv.getInput(0)).addInput(wName)
                    .addInput(bName).setOutput(0, bn.getOutput(0));
            foldedConvs.put(bn.getOutput(0), folded.build());
            removed.add(bn);
            removed.add(conv);
        }
        List<NodeProto> nodes = new ArrayList<>();
        for (NodeProto n : graph.getNodeList()) {
            if (n.getOpType().equals("BatchNormalization") && foldedConvs.containsKey(n.getOutput(0))) {
                nodes.add(foldedConvs.get(n.getOutput(0))); // where the BN was: its inputs are all computed by then
            } else if (!removed.contains(n)) {
                nodes.add(n);
            }
        }
        graph.clearNode().addAllNode(nodes);
        dropUnusedInitializers();
    }

    private void dropUnusedInitializers() {
        Set<String> used = new HashSet<>(graphOutputs());
        graph.getNodeList().forEach(n -> used.addAll(n.getInputList()));
        initializers.keySet().removeIf(name -> !used.contains(name));
    }

    private Set<String> graphOutputs() {
        Set<String> out = new HashSet<>();
        graph.getOutputList().forEach(o -> out.add(o.getName()));
        return out;
    }

    private String unique(String name) {
        String candidate = name;
        for (int i = 1; initializers.containsKey(candidate) || isNodeOutput(candidate); i++) {
            candidate = name + "_" + i;
        }
        return candidate;
    }

    private boolean isNodeOutput(String name) {
        return graph.getNodeList().stream().anyMatch(n -> n.getOutputList().contains(name));
    }

}
