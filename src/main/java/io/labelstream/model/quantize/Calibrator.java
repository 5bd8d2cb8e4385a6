package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorProto;
import ai.onnx.proto.OnnxMl.TypeProto;
import ai.onnx.proto.OnnxMl.ValueInfoProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.labelstream.model.ModelException;
import io.labelstream.model.ModelInput;

import java.nio.FloatBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Measures what each activation tensor holds on the calibration images: the fp32 model runs in ONNX Runtime, without
 * graph optimisation (so every tensor exists as written), with the tensors to calibrate added as graph outputs.
 */
final class Calibrator {

    /** Images per run when the model's batch is dynamic; a fixed batch (often 1) is used as it is. */
    private static final int BATCH = 8;

    private Calibrator() {
    }

    static Map<String, double[]> ranges(ModelProto prepared, List<String> tensors, List<float[]> images,
                                        ModelInput input, CalibrationMethod method, double percentile)
            throws ModelException {
        Set<String> outputs = new HashSet<>();
        prepared.getGraph().getOutputList().forEach(o -> outputs.add(o.getName()));
        var graph = prepared.getGraph().toBuilder();
        for (String t : tensors) {
            if (!outputs.contains(t)) {
                graph.addOutput(ValueInfoProto.newBuilder().setName(t).setType(TypeProto.newBuilder()
                        .setTensorType(TypeProto.Tensor.newBuilder().setElemType(TensorProto.DataType.FLOAT_VALUE))));
            }
        }
        byte[] model = prepared.toBuilder().setGraph(graph).build().toByteArray();
        Map<String, TensorRange> seen = new LinkedHashMap<>();
        for (String t : tensors) {
            seen.put(t, new TensorRange(method != CalibrationMethod.MINMAX));
        }
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession session = env.createSession(model, options)) {
                for (int start = 0; start < images.size(); ) {
                    int n = input.runSize(BATCH, images.size() - start);
                    FloatBuffer data = input.runValues(images, start, n);
                    try (OnnxTensor tensor = OnnxTensor.createTensor(env, data, input.shape(n));
                         OrtSession.Result result = session.run(Map.of(input.name(), tensor), new HashSet<>(tensors))) {
                        for (String t : tensors) {
                            OnnxValue v = result.get(t).orElseThrow();
                            FloatBuffer values = ((OnnxTensor) v).getFloatBuffer();
                            float[] array = new float[values.remaining()];
                            values.get(array);
                            try {
                                seen.get(t).add(array);
                            } catch (IllegalStateException notFinite) {
                                throw new ModelException("tensor '" + t + "' is not finite (NaN or infinity) on"
                                        + " calibration image " + (start + 1) + "; the fp32 model itself misbehaves");
                            }
                        }
                    }
                    start += n;
                }
            }
        } catch (OrtException e) {
            throw new ModelException("calibration run failed: " + e.getMessage(), e);
        }
        Map<String, double[]> ranges = new HashMap<>();
        seen.forEach((t, r) -> ranges.put(t, r.range(method, percentile)));
        return ranges;
    }
}
