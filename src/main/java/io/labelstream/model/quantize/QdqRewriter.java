package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Writes a {@link QdqPlan} into the graph: uint8 QuantizeLinear/DequantizeLinear pairs on the planned activations
 * (scale and zero point from their calibrated ranges, the range widened to include 0, as ONNX Runtime computes
 * them), int8 symmetric per-channel weights in the {@link WeightRange} asked for and int32 biases (scale = input
 * scale × weight scale) behind DequantizeLinear nodes.
 */
final class QdqRewriter {

    /** uint8 encoding of one activation tensor. */
    record Encoding(float scale, int zeroPoint) {

        /** ONNX Runtime's compute_scale_zp for uint8, in double precision like numpy. */
        static Encoding of(double rmin, double rmax) {
            double lo = Math.min(rmin, 0);
            double hi = Math.max(rmax, 0);
            double scale = (hi - lo) / 255.0;
            if (scale < Float.MIN_NORMAL) {
                return new Encoding(1f, 0);
            }
            long zp = Math.round(Math.rint(-lo / scale));
            return new Encoding((float) scale, (int) Math.max(0, Math.min(255, zp)));
        }
    }

    private final GraphProto source;
    private final QdqPlan plan;
    private final Map<String, Encoding> encodings;
    private final WeightRange weightRange;
    private final Map<String, TensorProto> initializers = new LinkedHashMap<>();
    private final Set<String> names = new HashSet<>();
    private final List<NodeProto> weightNodes = new ArrayList<>();
    /** Scale and zero-point initializer names by the tensor whose encoding they are. */
    private final Map<String, String[]> parameters = new HashMap<>();

    private QdqRewriter(GraphProto source, QdqPlan plan, Map<String, Encoding> encodings, WeightRange weightRange) {
        this.source = source;
        this.plan = plan;
        this.encodings = encodings;
        this.weightRange = weightRange;
        source.getInitializerList().forEach(t -> initializers.put(t.getName(), t));
        source.getInputList().forEach(v -> names.add(v.getName()));
        source.getNodeList().forEach(n -> {
            names.addAll(n.getOutputList());
            names.add(n.getName());
        });
        names.addAll(initializers.keySet());
    }

    /**
     * @param ranges calibrated [min, max] of every tensor in {@link QdqPlan#tensorsToCalibrate()}
     */
    static GraphProto rewrite(GraphProto graph, QdqPlan plan, Map<String, double[]> ranges,
                              WeightRange weightRange) {
        Map<String, Encoding> encodings = new HashMap<>();
        for (String t : plan.activations) {
            double[] r = ranges.get(plan.scaleSource(t));
            if (r == null) {
                throw new IllegalStateException("no calibrated range for tensor '" + plan.scaleSource(t) + "'");
            }
            encodings.put(t, Encoding.of(r[0], r[1]));
        }
        return new QdqRewriter(graph, plan, encodings, weightRange).rewrite();
    }

    private GraphProto rewrite() {
        Map<String, String> dequantized = new HashMap<>();
        List<NodeProto> activationPairs = new ArrayList<>();
        Map<String, List<NodeProto>> pairsAfter = new HashMap<>();
        Map<String, String> producedAs = new HashMap<>();
        Set<String> graphInputs = new HashSet<>();
        source.getInputList().forEach(v -> graphInputs.add(v.getName()));
        Set<String> graphOutputs = new HashSet<>();
        source.getOutputList().forEach(v -> graphOutputs.add(v.getName()));
        for (String t : plan.activations) {
            List<NodeProto> pair;
            if (graphOutputs.contains(t)) {
                // The graph output keeps its name, now on the DQ; its producer writes under a new one.
                String produced = unique(t + "_before_quantization");
                producedAs.put(t, produced);
                pair = qdqPair(t, produced, t);
            } else {
                pair = qdqPair(t, t, unique(t + "_dequantized"));
                dequantized.put(t, pair.get(1).getOutput(0));
            }
            if (graphInputs.contains(t)) {
                activationPairs.addAll(pair);
            } else {
                pairsAfter.put(t, pair);
            }
        }
        List<NodeProto> body = new ArrayList<>();
        for (NodeProto n : source.getNodeList()) {
            NodeProto.Builder b = n.toBuilder();
            for (int i = 0; i < n.getInputCount(); i++) {
                String replacement = dequantized.get(n.getInput(i));
                if (replacement != null) {
                    b.setInput(i, replacement);
                }
            }
            for (int i = 0; i < n.getOutputCount(); i++) {
                String renamed = producedAs.get(n.getOutput(i));
                if (renamed != null) {
                    b.setOutput(i, renamed);
                }
            }
            if (plan.nodes.get(n) == QdqPlan.Kind.WEIGHTED) {
                quantizeWeights(n, b);
            }
            body.add(b.build());
            for (String out : n.getOutputList()) {
                body.addAll(pairsAfter.getOrDefault(out, List.of()));
            }
        }
        List<NodeProto> nodes = new ArrayList<>(weightNodes);
        nodes.addAll(activationPairs);
        nodes.addAll(body);
        Set<String> used = new HashSet<>();
        nodes.forEach(n -> used.addAll(n.getInputList()));
        source.getOutputList().forEach(o -> used.add(o.getName()));
        return source.toBuilder().clearNode().addAllNode(nodes).clearInitializer()
                .addAllInitializer(initializers.values().stream().filter(t -> used.contains(t.getName())).toList())
                .build();
    }

    /**
     * Q reads {@code input}, DQ writes {@code output}. A tensor that borrows its input's scale (after MaxPool,
     * Flatten, Reshape) shares that tensor's scale and zero-point initializers, so ONNX Runtime sees one encoding.
     */
    private List<NodeProto> qdqPair(String tensor, String input, String output) {
        String[] params = parameters.get(plan.scaleSource(tensor));
        if (params == null) {
            Encoding e = encodings.get(tensor);
            params = new String[] {
                    add(OnnxTensors.floatTensor(unique(tensor + "_scale"), new float[] {e.scale()})),
                    add(OnnxTensors.uint8Tensor(unique(tensor + "_zero_point"), new byte[] {(byte) e.zeroPoint()}))};
            parameters.put(plan.scaleSource(tensor), params);
        }
        String q = unique(tensor + "_quantized");
        return List.of(
                NodeProto.newBuilder().setOpType("QuantizeLinear").setName(unique(tensor + "_QuantizeLinear"))
                        .addInput(input).addInput(params[0]).addInput(params[1]).addOutput(q).build(),
                NodeProto.newBuilder().setOpType("DequantizeLinear").setName(unique(tensor + "_DequantizeLinear"))
                        .addInput(q).addInput(params[0]).addInput(params[1]).addOutput(output).build());
    }

    /**
     * Weights to int8 in [−L, L] (L from the {@link WeightRange}), one scale per output channel (Conv: axis 0;
     * Gemm: 0 when transB, else 1; MatMul: 1); the bias to int32 at the input's scale times each channel's; Gemm's alpha and beta folded in.
     */
    private void quantizeWeights(NodeProto n, NodeProto.Builder b) {
        TensorProto w = initializers.get(n.getInput(1));
        float[] weights = OnnxTensors.floats(w);
        int axis;
        float[] bias = null;
        if (n.getOpType().equals("Gemm")) {
            axis = OnnxTensors.intAttribute(n, "transB", 0) == 1 ? 0 : 1;
            float alpha = OnnxTensors.floatAttribute(n, "alpha", 1f);
            float beta = OnnxTensors.floatAttribute(n, "beta", 1f);
            for (int i = 0; i < weights.length; i++) {
                weights[i] *= alpha;
            }
            if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
                bias = OnnxTensors.floats(initializers.get(n.getInput(2)));
                for (int i = 0; i < bias.length; i++) {
                    bias[i] *= beta;
                }
            }
            NodeProto.Builder cleaned = OnnxTensors.withoutAttributes(b.build(), "alpha", "beta");
            b.clearAttribute().addAllAttribute(cleaned.getAttributeList());
        } else {
            axis = n.getOpType().equals("MatMul") ? 1 : 0;
            if (n.getInputCount() > 2 && !n.getInput(2).isEmpty()) {
                bias = OnnxTensors.floats(initializers.get(n.getInput(2)));
            }
        }
        long[] dims = OnnxTensors.dims(w);
        int channels = (int) dims[axis];
        int inner = 1;
        for (int d = axis + 1; d < dims.length; d++) {
            inner *= (int) dims[d];
        }
        float[] scales = new float[channels];
        for (int i = 0; i < weights.length; i++) {
            int c = (i / inner) % channels;
            scales[c] = Math.max(scales[c], Math.abs(weights[i]));
        }
        int level = weightRange.maxLevel;
        for (int c = 0; c < channels; c++) {
            scales[c] = scales[c] == 0 ? 1f : scales[c] / level;
        }
        byte[] q = new byte[weights.length];
        for (int i = 0; i < weights.length; i++) {
            int c = (i / inner) % channels;
            q[i] = (byte) Math.max(-level, Math.min(level, Math.round(weights[i] / scales[c])));
        }
        String base = n.getInput(1);
        String qName = add(OnnxTensors.int8Tensor(unique(base + "_quantized"), q, dims));
        String sName = add(OnnxTensors.floatTensor(unique(base + "_scale"), scales, channels));
        String zName = add(OnnxTensors.int8Tensor(unique(base + "_zero_point"), new byte[channels], channels));
        b.setInput(1, dequantize(base, qName, sName, zName, axis));
        if (bias != null) {
            float inputScale = encodings.get(n.getInput(0)).scale();
            int[] qb = new int[channels];
            float[] biasScales = new float[channels];
            for (int c = 0; c < channels; c++) {
                biasScales[c] = inputScale * scales[c];
                double v = Math.rint(bias[c] / (double) biasScales[c]);
                qb[c] = (int) Math.max(Integer.MIN_VALUE + 1, Math.min(Integer.MAX_VALUE, v));
            }
            String biasBase = n.getInput(2);
            String qbName = add(OnnxTensors.int32Tensor(unique(biasBase + "_quantized"), qb, channels));
            String sbName = add(OnnxTensors.floatTensor(unique(biasBase + "_scale"), biasScales, channels));
            String zbName = add(OnnxTensors.int32Tensor(unique(biasBase + "_zero_point"), new int[channels], channels));
            b.setInput(2, dequantize(biasBase, qbName, sbName, zbName, 0));
        }
    }

    private String dequantize(String base, String quantized, String scale, String zeroPoint, int axis) {
        String out = unique(base + "_dequantized");
        weightNodes.add(NodeProto.newBuilder().setOpType("DequantizeLinear").setName(unique(base + "_DequantizeLinear"))
                .addInput(quantized).addInput(scale).addInput(zeroPoint).addOutput(out)
                .addAttribute(OnnxTensors.intAttribute("axis", axis)).build());
        return out;
    }

    private String add(TensorProto t) {
        initializers.put(t.getName(), t);
        return t.getName();
    }

    private String unique(String name) {
        String candidate = name;
        for (int i = 1; names.contains(candidate); i++) {
            candidate = name + "_" + i;
        }
        names.add(candidate);
        return candidate;
    }
}
