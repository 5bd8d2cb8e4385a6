package io.labelstream.model.adapt;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import io.labelstream.model.ModelException;
import io.labelstream.model.quantize.OnnxTensors;

import java.util.List;

/**
 * A trained linear head on raw features, {@code logits = W·x + b}, with the standardization it was trained
 * through folded in; and the one ONNX model it makes with its backbone.
 *
 * @param weights [classes][features]
 * @param bias    [classes]
 */
public record Head(float[][] weights, float[] bias) {

    static final String WEIGHT = "labelstream_head_weight";
    static final String BIAS = "labelstream_head_bias";

    public int classes() {
        return bias.length;
    }

    public int features() {
        return weights[0].length;
    }

    /** A head trained on {@code (x - mean) / std}, as the same function of raw {@code x}. */
    static Head unstandardized(double[][] w, double[] b, Standardizer standardizer) {
        int k = b.length;
        int d = w[0].length;
        float[][] weights = new float[k][d];
        float[] bias = new float[k];
        for (int c = 0; c < k; c++) {
            double shift = b[c];
            for (int j = 0; j < d; j++) {
                double scaled = w[c][j] / standardizer.std()[j];
                weights[c][j] = (float) scaled;
                shift -= scaled * standardizer.mean()[j];
            }
            bias[c] = (float) shift;
        }
        return new Head(weights, bias);
    }

    int predict(float[] x) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < classes(); c++) {
            double s = bias[c];
            for (int j = 0; j < x.length; j++) {
                s += weights[c][j] * x[j];
            }
            if (s > bestScore) {
                bestScore = s;
                best = c;
            }
        }
        return best;
    }

    /**
     * The backbone with this head after its features: Gemm(features, W, b, transB=1) to {@code logits}
     * [batch, classes]. An IR 3 model lists every initializer as a graph input too, so the head's are added there.
     */
    ModelProto attachTo(ModelProto backbone) throws ModelException {
        int k = classes();
        int d = features();
        float[] flat = new float[k * d];
        for (int c = 0; c < k; c++) {
            System.arraycopy(weights[c], 0, flat, c * d, d);
        }
        TensorProto w = OnnxTensors.floatTensor(WEIGHT, flat, k, d);
        TensorProto b = OnnxTensors.floatTensor(BIAS, bias, k);
        NodeProto.Builder gemm = NodeProto.newBuilder().setOpType("Gemm").setName("labelstream_head")
                .addInput(FeatureCut.FEATURES).addInput(WEIGHT).addInput(BIAS).addOutput(FeatureCut.LOGITS)
                .addAttribute(OnnxTensors.intAttribute("transB", 1));
        if (OnnxTensors.defaultOpset(backbone) < 7) {
            // Before opset 7 Gemm broadcast C only when asked to.
            gemm.addAttribute(OnnxTensors.intAttribute("broadcast", 1));
        }
        var graph = backbone.getGraph().toBuilder().clearOutput().addNode(gemm).addInitializer(w).addInitializer(b)
                .addOutput(ValueInfoProto.newBuilder().setName(FeatureCut.LOGITS).setType(tensorType(
                        FeatureCut.batchDim(backbone), TensorShapeProto.Dimension.newBuilder().setDimValue(k).build())));
        if (backbone.getIrVersion() < 4) {
            graph.addInput(ValueInfoProto.newBuilder().setName(WEIGHT).setType(tensorType(dim(k), dim(d))));
            graph.addInput(ValueInfoProto.newBuilder().setName(BIAS).setType(tensorType(dim(k))));
        }
        return backbone.toBuilder().setGraph(graph).build();
    }

    private static TensorShapeProto.Dimension dim(long value) {
        return TensorShapeProto.Dimension.newBuilder().setDimValue(value).build();
    }

    private static TypeProto tensorType(TensorShapeProto.Dimension... dims) {
        return TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder()
                .setElemType(TensorProto.DataType.FLOAT_VALUE).setShape(TensorShapeProto.newBuilder()
                        .addAllDim(List.of(dims)))).build();
    }
}
