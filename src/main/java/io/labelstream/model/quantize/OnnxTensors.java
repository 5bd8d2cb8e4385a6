package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.AttributeProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import ai.onnx.proto.OnnxMl.OperatorSetIdProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import com.google.protobuf.ByteString;
import io.labelstream.model.ModelException;
import io.labelstream.model.OnnxNodes;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.List;

/** Reads and makes the ONNX initializers and attributes that the model tools (quantize, adapt) touch. */
public final class OnnxTensors {

    private OnnxTensors() {
    }

    static boolean isFloat(TensorProto t) {
        return t.getDataType() == TensorProto.DataType.FLOAT_VALUE;
    }

    static long[] dims(TensorProto t) {
        return t.getDimsList().stream().mapToLong(Long::longValue).toArray();
    }

    static int elementCount(TensorProto t) {
        return OnnxNodes.elementCount(t);
    }

    /** A float tensor's values, whether stored as raw little-endian bytes or in {@code float_data}. */
    static float[] floats(TensorProto t) {
        if (!isFloat(t)) {
            throw new IllegalArgumentException("initializer '" + t.getName() + "' is not float32");
        }
        return OnnxNodes.values(t);
    }

    public static TensorProto floatTensor(String name, float[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asFloatBuffer().put(values);
        return tensor(name, TensorProto.DataType.FLOAT, raw.array(), dims);
    }

    static TensorProto int8Tensor(String name, byte[] values, long... dims) {
        return tensor(name, TensorProto.DataType.INT8, values, dims);
    }

    static TensorProto uint8Tensor(String name, byte[] values, long... dims) {
        return tensor(name, TensorProto.DataType.UINT8, values, dims);
    }

    static TensorProto int32Tensor(String name, int[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        raw.asIntBuffer().put(values);
        return tensor(name, TensorProto.DataType.INT32, raw.array(), dims);
    }

    static TensorProto int64Tensor(String name, long[] values, long... dims) {
        ByteBuffer raw = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        raw.asLongBuffer().put(values);
        return tensor(name, TensorProto.DataType.INT64, raw.array(), dims);
    }

    private static TensorProto tensor(String name, TensorProto.DataType type, byte[] raw, long... dims) {
        return TensorProto.newBuilder().setName(name).setDataType(type.getNumber())
                .addAllDims(Arrays.stream(dims).boxed().toList()).setRawData(ByteString.copyFrom(raw)).build();
    }

    public static AttributeProto intAttribute(String name, long value) {
        return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(value).build();
    }

    static AttributeProto attribute(NodeProto node, String name) {
        return OnnxNodes.attribute(node, name);
    }

    public static long intAttribute(NodeProto node, String name, long fallback) {
        return OnnxNodes.intAttribute(node, name, fallback);
    }

    static float floatAttribute(NodeProto node, String name, float fallback) {
        return OnnxNodes.floatAttribute(node, name, fallback);
    }

    static List<Long> intsAttribute(NodeProto node, String name) {
        AttributeProto a = attribute(node, name);
        return a == null ? null : a.getIntsList();
    }

    static NodeProto.Builder withoutAttributes(NodeProto node, String... names) {
        NodeProto.Builder b = node.toBuilder().clearAttribute();
        for (AttributeProto a : node.getAttributeList()) {
            if (!Arrays.asList(names).contains(a.getName())) {
                b.addAttribute(a);
            }
        }
        return b;
    }

    /** A node's description for error messages: its name if it has one, its op and its first output. */
    public static String describe(NodeProto node) {
        return OnnxNodes.describe(node);
    }

    /** The version of the default ONNX operator set the model imports. */
    public static long defaultOpset(ModelProto model) throws ModelException {
        for (OperatorSetIdProto o : model.getOpsetImportList()) {
            if (o.getDomain().isEmpty() || o.getDomain().equals("ai.onnx")) {
                return o.getVersion();
            }
        }
        throw new ModelException("the model imports no default ONNX opset");
    }
}
