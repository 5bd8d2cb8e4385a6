package io.labelstream.model;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.TensorProto;

import java.nio.ByteOrder;

/**
 * Reads ONNX nodes' attributes and constant tensors, for the parts of the core that look inside a model graph
 * (its classifier tail); the model tools build on the same reads.
 */
public final class OnnxNodes {

    private OnnxNodes() {
    }

    public static AttributeProto attribute(NodeProto node, String name) {
        for (AttributeProto a : node.getAttributeList()) {
            if (a.getName().equals(name)) {
                return a;
            }
        }
        return null;
    }

    public static long intAttribute(NodeProto node, String name, long fallback) {
        AttributeProto a = attribute(node, name);
        return a == null ? fallback : a.getI();
    }

    public static float floatAttribute(NodeProto node, String name, float fallback) {
        AttributeProto a = attribute(node, name);
        return a == null ? fallback : a.getF();
    }

    /** A node's description for error messages: its name if it has one, its op and its first output. */
    public static String describe(NodeProto node) {
        return node.getOpType() + " node '" + (node.getName().isEmpty() ? node.getOutput(0) : node.getName()) + "'";
    }

    public static int elementCount(TensorProto t) {
        long n = 1;
        for (long d : t.getDimsList()) {
            n *= d;
        }
        return Math.toIntExact(n);
    }

    /**
     * A float, int8, uint8, int32 or int64 tensor's values as floats, whether stored as raw little-endian bytes or in the
     * typed fields: enough to dequantize a classifier's weights or read a small
     * shape or axes tensor.
     *
     * @throws IllegalArgumentException for another element type or weights kept in an external file
     */
    public static float[] values(TensorProto t) {
        if (t.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
            throw new IllegalArgumentException("initializer '" + t.getName() + "' is stored in an external file;"
                    + " save the model with its weights inside it");
        }
        int n = elementCount(t);
        float[] out = new float[n];
        boolean raw = !t.getRawData().isEmpty();
        var bytes = t.getRawData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        switch (t.getDataType()) {
            case TensorProto.DataType.FLOAT_VALUE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? bytes.getFloat(4 * i) : t.getFloatData(i);
                }
            }
            // int8, uint8 and int32 share int32_data when not raw.
            case TensorProto.DataType.INT8_VALUE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? bytes.get(i) : t.getInt32Data(i);
                }
            }
            case TensorProto.DataType.UINT8_VALUE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? bytes.get(i) & 0xFF : t.getInt32Data(i);
                }
            }
            case TensorProto.DataType.INT32_VALUE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? bytes.getInt(4 * i) : t.getInt32Data(i);
                }
            }
            case TensorProto.DataType.INT64_VALUE -> {
                for (int i = 0; i < n; i++) {
                    out[i] = raw ? bytes.getLong(8 * i) : t.getInt64Data(i);
                }
            }
            default -> throw new IllegalArgumentException("initializer '" + t.getName() + "' has element type "
                    + TensorProto.DataType.forNumber(t.getDataType()) + "; expected float, int8, uint8, int32 or"
                    + " int64");
        }
        return out;
    }
}
