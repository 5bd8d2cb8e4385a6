package io.labelstream.model.adapt;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import io.labelstream.model.ModelException;
import io.labelstream.model.ModelInput;

import java.nio.FloatBuffer;
import java.util.List;
import java.util.Map;

/** Runs a cut backbone in ONNX Runtime: preprocessed images in, one float feature vector per image out. */
final class FeatureExtractor implements AutoCloseable {

    /** Images per run when the batch is dynamic; a fixed batch is used as the model declares it. */
    private static final int BATCH = 8;

    private final OrtEnvironment environment = OrtEnvironment.getEnvironment();
    private final OrtSession session;
    private final ModelInput input;

    FeatureExtractor(ModelProto backbone, ModelInput input) throws ModelException {
        this.input = input;
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            this.session = environment.createSession(backbone.toByteArray(), options);
        } catch (OrtException e) {
            throw new ModelException("ONNX Runtime cannot load the cut backbone: " + e.getMessage(), e);
        }
    }

    float[][] features(List<float[]> images) throws ModelException {
        float[][] out = new float[images.size()][];
        for (int start = 0; start < images.size(); ) {
            int n = input.runSize(BATCH, images.size() - start);
            int real = Math.min(n, images.size() - start);
            FloatBuffer data = input.runValues(images, start, n);
            try (OnnxTensor tensor = OnnxTensor.createTensor(environment, data, input.shape(n));
                 OrtSession.Result result = session.run(Map.of(input.name(), tensor))) {
                float[][] rows = (float[][]) result.get(0).getValue();
                for (int i = 0; i < real; i++) {
                    out[start + i] = rows[i];
                    for (float v : rows[i]) {
                        if (!Float.isFinite(v)) {
                            throw new ModelException("the backbone's features are not finite (NaN or infinity) on"
                                    + " image " + (start + i + 1) + "; the model itself misbehaves");
                        }
                    }
                }
            } catch (OrtException e) {
                throw new ModelException("the backbone failed on images " + (start + 1) + "–" + (start + real) + ": "
                        + e.getMessage(), e);
            }
            start += n;
        }
        return out;
    }

    @Override
    public void close() {
        try {
            session.close();
        } catch (OrtException ignored) {
            // closing a session that ran is not something a caller can act on
        }
    }
}
