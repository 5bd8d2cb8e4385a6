package io.labelstream.model;

import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import static io.labelstream.model.OnnxNodes.describe;

/**
 * A classifier's weight matrix as floats, one row of {@code channels} weights per class: read from a Gemm or
 * MatMul (float, or fed by a DequantizeLinear as QDQ models write it) or from QGemm and QLinearMatMul, dequantized
 * with their scale and zero point (per tensor or per class). The bias is left out: it moves a class's logit but
 * not where in the image that logit comes from.
 *
 * @param values   {@code classes × channels}, class-major
 */
public record ClassifierWeights(float[] values, int classes, int channels) {

    /** One class's weights start here in {@link #values}. */
    public int offset(int classIndex) {
        return classIndex * channels;
    }

    /**
     * @throws ModelException when the weights are not a constant 2-D matrix labelstream can read
     */
    public static ClassifierWeights of(ClassifierTail tail, ClassifierTail.Classifier classifier) throws ModelException {
        NodeProto node = classifier.node();
        try {
            return switch (node.getOpType()) {
                case "Gemm" -> fromMatrix(tail, node, node.getInput(1), OnnxNodes.intAttribute(node, "transB", 0) != 0,
                        OnnxNodes.floatAttribute(node, "alpha", 1f));
                case "MatMul" -> fromMatrix(tail, node, node.getInput(1), false, 1f);
                // b, b_scale, b_zero_point: the scale is per tensor or per output column.
                case "QLinearMatMul" -> quantized(tail, node, node.getInput(3), node.getInput(4),
                        ClassifierTail.input(node, 5), false, 1f);
                // com.microsoft QGemm: A, a_scale, a_zero_point, B, b_scale, b_zero_point, …
                case "QGemm" -> quantized(tail, node, node.getInput(3), node.getInput(4),
                        ClassifierTail.input(node, 5), OnnxNodes.intAttribute(node, "transB", 0) != 0,
                        OnnxNodes.floatAttribute(node, "alpha", 1f));
                default -> throw new ModelException(describe(node) + " is not a classifier labelstream can read");
            };
        } catch (IllegalArgumentException e) {
            throw new ModelException("the weights of the classifier " + describe(node) + ": " + e.getMessage(), e);
        }
    }

    /** A float matrix, or one a DequantizeLinear makes of a quantized initializer (the QDQ form). */
    private static ClassifierWeights fromMatrix(ClassifierTail tail, NodeProto node, String weights, boolean transposed,
                                                float alpha) throws ModelException {
        TensorProto constant = tail.constant(weights);
        if (constant != null) {
            return arranged(OnnxNodes.values(constant), dims(node, constant), transposed, alpha);
        }
        NodeProto dequantize = tail.producer(weights);
        if (dequantize != null && dequantize.getOpType().equals("DequantizeLinear")) {
            TensorProto quantized = tail.constant(dequantize.getInput(0));
            if (quantized != null) {
                // DequantizeLinear's axis (default 1) is the one a per-channel scale runs along.
                float[] values = dequantized(tail, node, quantized, dequantize.getInput(1),
                        ClassifierTail.input(dequantize, 2), (int) OnnxNodes.intAttribute(dequantize, "axis", 1));
                return arranged(values, dims(node, quantized), transposed, alpha);
            }
        }
        throw new ModelException("the classifier " + describe(node) + " multiplies by '" + weights + "', which is"
                + " computed, not a constant weight matrix");
    }

    private static ClassifierWeights quantized(ClassifierTail tail, NodeProto node, String weights, String scale,
                                               String zeroPoint, boolean transposed, float alpha)
            throws ModelException {
        TensorProto quantized = tail.constant(weights);
        if (quantized == null) {
            throw new ModelException("the classifier " + describe(node) + " multiplies by '" + weights + "', which is"
                    + " computed, not a constant weight matrix");
        }
        // A per-class scale runs along the class axis: columns of B, or its rows when B is transposed.
        float[] values = dequantized(tail, node, quantized, scale, zeroPoint, transposed ? 0 : 1);
        return arranged(values, dims(node, quantized), transposed, alpha);
    }

    /** (q − zero point) × scale, the scale and zero point per tensor or along {@code axis} of a 2-D tensor. */
    private static float[] dequantized(ClassifierTail tail, NodeProto node, TensorProto quantized, String scaleName,
                                       String zeroPointName, int axis) throws ModelException {
        float[] q = OnnxNodes.values(quantized);
        float[] scale = constantValues(tail, node, scaleName);
        float[] zeroPoint = zeroPointName.isEmpty() ? new float[] {0f} : constantValues(tail, node, zeroPointName);
        long[] dims = dims(node, quantized);
        int along = (int) dims[axis];
        if ((scale.length != 1 && scale.length != along) || (zeroPoint.length != 1 && zeroPoint.length != along)) {
            throw new ModelException("the classifier " + describe(node) + " has " + scale.length + " scales and "
                    + zeroPoint.length + " zero points for weights of shape " + java.util.Arrays.toString(dims));
        }
        float[] out = new float[q.length];
        int cols = (int) dims[1];
        for (int i = 0; i < q.length; i++) {
            int index = axis == 1 ? i % cols : i / cols;
            out[i] = (q[i] - zeroPoint[zeroPoint.length == 1 ? 0 : index]) * scale[scale.length == 1 ? 0 : index];
        }
        return out;
    }

    private static float[] constantValues(ClassifierTail tail, NodeProto node, String name) throws ModelException {
        TensorProto t = tail.constant(name);
        if (t == null) {
            throw new ModelException("the classifier " + describe(node) + " reads its quantization from '" + name
                    + "', which is computed, not a constant");
        }
        return OnnxNodes.values(t);
    }

    private static long[] dims(NodeProto node, TensorProto t) throws ModelException {
        if (t.getDimsCount() != 2) {
            throw new ModelException("the classifier " + describe(node) + " has weights of shape " + t.getDimsList()
                    + "; expected a matrix");
        }
        return new long[] {t.getDims(0), t.getDims(1)};
    }

    /** Class-major from B as the node multiplies by it: [channels, classes], or [classes, channels] transposed. */
    private static ClassifierWeights arranged(float[] b, long[] dims, boolean transposed, float alpha) {
        int classes = (int) (transposed ? dims[0] : dims[1]);
        int channels = (int) (transposed ? dims[1] : dims[0]);
        float[] out = new float[classes * channels];
        for (int k = 0; k < classes; k++) {
            for (int c = 0; c < channels; c++) {
                out[k * channels + c] = alpha * (transposed ? b[k * channels + c] : b[c * classes + k]);
            }
        }
        return new ClassifierWeights(out, classes, channels);
    }
}
