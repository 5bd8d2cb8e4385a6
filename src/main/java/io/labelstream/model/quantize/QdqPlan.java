package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Which nodes of a prepared fp32 graph become int8 and which activation tensors get a QuantizeLinear /
 * DequantizeLinear pair, in the patterns ONNX Runtime's CPU provider fuses: DQ → Conv/Gemm/MatMul (int8 per-channel
 * weights, int32 bias) → Q, with a lone Relu or Clip after the op absorbed (the Q goes after it); DQ, DQ → Add → Q;
 * DQ → AveragePool/GlobalAveragePool → Q; DQ… → Concat → Q; and MaxPool, Flatten and Reshape between a DQ and a Q
 * of the same scale, so they run on uint8 as they are. Everything else stays float.
 */
final class QdqPlan {

    enum Kind {
        /** Conv, Gemm, MatMul: constant weights quantized per output channel. */
        WEIGHTED,
        /** Add of two activations. */
        BINARY,
        /** AveragePool, GlobalAveragePool: their own output scale. */
        POOL,
        /** Concat of activations: its own output scale. */
        CONCAT,
        /** MaxPool, Flatten, Reshape: output keeps the input's scale. */
        SAME_SCALE
    }

    /** The nodes to quantize, in graph order, with their kind. */
    final Map<NodeProto, Kind> nodes = new LinkedHashMap<>();
    /** Activation tensors that get a Q/DQ pair, in graph order. */
    final Set<String> activations = new LinkedHashSet<>();
    /** Tensors whose scale is their input's (outputs of SAME_SCALE nodes), mapped to that input. */
    final Map<String, String> sameScaleAs = new HashMap<>();
    /** Relu/Clip nodes whose op before them absorbs them. */
    final Set<NodeProto> absorbed = new java.util.HashSet<>();
    final Set<String> excludedSeen = new LinkedHashSet<>();

    private final GraphProto graph;
    private final Map<String, TensorProto> initializers = new HashMap<>();
    private final Map<String, List<NodeProto>> consumers = new HashMap<>();
    private final Set<String> graphOutputs = new java.util.HashSet<>();
    private final Map<String, Integer> types = new HashMap<>();

    private QdqPlan(GraphProto graph) {
        this.graph = graph;
        graph.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        graph.getOutputList().forEach(o -> graphOutputs.add(o.getName()));
        for (NodeProto n : graph.getNodeList()) {
            for (String in : n.getInputList()) {
                consumers.computeIfAbsent(in, k -> new ArrayList<>()).add(n);
            }
        }
        inferTypes();
    }

    /**
     * @param excluded node names or op types to keep in float
     */
    static QdqPlan of(GraphProto graph, Set<String> excluded) {
        QdqPlan plan = new QdqPlan(graph);
        for (NodeProto n : graph.getNodeList()) {
            if (excluded.contains(n.getName()) || excluded.contains(n.getOpType())) {
                plan.excludedSeen.add(n.getName().isEmpty() ? n.getOpType() : n.getName());
                continue;
            }
            if (plan.absorbed.contains(n)) {
                continue;
            }
            Kind kind = plan.kindOf(n);
            if (kind == null) {
                continue;
            }
            if (kind == Kind.SAME_SCALE) {
                // Worth it only on an input that is already uint8; otherwise it stays float.
                if (!plan.activations.contains(n.getInput(0))) {
                    continue;
                }
                plan.nodes.put(n, kind);
                plan.activations.add(n.getOutput(0));
                plan.sameScaleAs.put(n.getOutput(0), plan.scaleSource(n.getInput(0)));
                continue;
            }
            for (String in : plan.activationInputs(n, kind)) {
                plan.activations.add(in);
            }
            String out = plan.absorbActivation(n, excluded);
            // Gemm and MatMul may keep a float output (logits, mostly): ONNX Runtime fuses them either way. Every
            // other op needs its Q to be fused, even when its output is a graph output.
            boolean floatOutput = (kind == Kind.WEIGHTED && !n.getOpType().equals("Conv"))
                    && !plan.allConsumersQuantizable(out);
            plan.nodes.put(n, kind);
            if (!floatOutput) {
                plan.activations.add(out);
            }
        }
        return plan;
    }

    /** The tensors whose ranges calibration must measure: every activation that does not borrow a scale. */
    List<String> tensorsToCalibrate() {
        return activations.stream().filter(t -> !sameScaleAs.containsKey(t)).toList();
    }

    String scaleSource(String tensor) {
        String t = tensor;
        while (sameScaleAs.containsKey(t)) {
            t = sameScaleAs.get(t);
        }
        return t;
    }

    private Kind kindOf(NodeProto n) {
        switch (n.getOpType()) {
            case "Conv" -> {
                return isFloatActivation(n.getInput(0)) && isFloatConstant(n.getInput(1))
                        && (n.getInputCount() < 3 || n.getInput(2).isEmpty() || isFloatConstant(n.getInput(2)))
                        ? Kind.WEIGHTED : null;
            }
            case "Gemm" -> {
                boolean ok = isFloatActivation(n.getInput(0)) && isFloatConstant(n.getInput(1))
                        && initializers.get(n.getInput(1)).getDimsCount() == 2
                        && OnnxTensors.intAttribute(n, "transA", 0) == 0
                        && (n.getInputCount() < 3 || n.getInput(2).isEmpty() || (isFloatConstant(n.getInput(2))
                        && OnnxTensors.elementCount(initializers.get(n.getInput(2))) == outputChannels(n)));
                return ok ? Kind.WEIGHTED : null;
            }
            case "MatMul" -> {
                return isFloatActivation(n.getInput(0)) && isFloatConstant(n.getInput(1))
                        && initializers.get(n.getInput(1)).getDimsCount() == 2 ? Kind.WEIGHTED : null;
            }
            case "Add" -> {
                return n.getInputCount() == 2 && isFloatActivation(n.getInput(0)) && isFloatActivation(n.getInput(1))
                        ? Kind.BINARY : null;
            }
            case "AveragePool", "GlobalAveragePool" -> {
                return isFloatActivation(n.getInput(0)) ? Kind.POOL : null;
            }
            case "Concat" -> {
                return n.getInputList().stream().allMatch(this::isFloatActivation) ? Kind.CONCAT : null;
            }
            case "MaxPool" -> {
                return n.getOutputCount() == 1 && isFloatActivation(n.getInput(0)) ? Kind.SAME_SCALE : null;
            }
            case "Flatten", "Reshape" -> {
                return isFloatActivation(n.getInput(0)) ? Kind.SAME_SCALE : null;
            }
            default -> {
                return null;
            }
        }
    }

    /** Gemm's N: rows of B when transB, else its columns. */
    int outputChannels(NodeProto gemm) {
        TensorProto b = initializers.get(gemm.getInput(1));
        return (int) b.getDims(OnnxTensors.intAttribute(gemm, "transB", 0) == 1 ? 0 : 1);
    }

    private List<String> activationInputs(NodeProto n, Kind kind) {
        return switch (kind) {
            case WEIGHTED, POOL, SAME_SCALE -> List.of(n.getInput(0));
            case BINARY, CONCAT -> n.getInputList();
        };
    }

    /**
     * A Relu, or a Clip with constant bounds, that alone reads the op's output is absorbed: ONNX Runtime drops it
     * when the Q after it clamps to the same range, so the Q goes on its output.
     */
    private String absorbActivation(NodeProto n, Set<String> excluded) {
        String out = n.getOutput(0);
        List<NodeProto> readers = consumers.getOrDefault(out, List.of());
        if (readers.size() != 1 || graphOutputs.contains(out)) {
            return out;
        }
        NodeProto next = readers.get(0);
        boolean activation = next.getOpType().equals("Relu") || (next.getOpType().equals("Clip")
                && next.getInputList().subList(1, next.getInputCount()).stream()
                .allMatch(i -> i.isEmpty() || initializers.containsKey(i)));
        if (!activation || excluded.contains(next.getName()) || excluded.contains(next.getOpType())) {
            return out;
        }
        absorbed.add(next);
        return next.getOutput(0);
    }

    private boolean allConsumersQuantizable(String tensor) {
        List<NodeProto> readers = consumers.getOrDefault(tensor, List.of());
        return !readers.isEmpty() && readers.stream().allMatch(r -> kindOf(r) != null);
    }

    private boolean isFloatConstant(String name) {
        TensorProto t = initializers.get(name);
        return t != null && OnnxTensors.isFloat(t);
    }

    private boolean isFloatActivation(String name) {
        return !name.isEmpty() && !initializers.containsKey(name)
                && types.getOrDefault(name, -1) == TensorProto.DataType.FLOAT_VALUE;
    }

    /** Element types by a forward pass: enough to keep shape arithmetic (int64) out of quantization. */
    private void inferTypes() {
        for (ValueInfoProto in : graph.getInputList()) {
            types.put(in.getName(), in.getType().getTensorType().getElemType());
        }
        initializers.forEach((name, t) -> types.put(name, t.getDataType()));
        for (NodeProto n : graph.getNodeList()) {
            int type = switch (n.getOpType()) {
                case "Shape", "Size", "ArgMax", "ArgMin", "NonZero" -> TensorProto.DataType.INT64_VALUE;
                case "Equal", "Less", "Greater", "Not", "And", "Or", "IsNaN", "IsInf", "LessOrEqual",
                     "GreaterOrEqual" -> TensorProto.DataType.BOOL_VALUE;
                case "Cast" -> (int) OnnxTensors.intAttribute(n, "to", -1);
                case "Constant" -> {
                    AttributeProto value = OnnxTensors.attribute(n, "value");
                    yield value != null && value.hasT() ? value.getT().getDataType() : -1;
                }
                case "Where" -> n.getInputCount() > 1 ? types.getOrDefault(n.getInput(1), -1) : -1;
                default -> n.getInputCount() > 0 ? types.getOrDefault(n.getInput(0), -1) : -1;
            };
            for (String out : n.getOutputList()) {
                types.put(out, type);
            }
        }
    }
}
