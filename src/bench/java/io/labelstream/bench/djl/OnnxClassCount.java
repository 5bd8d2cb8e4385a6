package io.labelstream.bench.djl;

import ai.onnx.proto.OnnxMl.GraphProto;
import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.TensorShapeProto;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * How many classes a classifier scores, read from the ONNX file itself: DJL's ORT model cannot describe its
 * outputs, and its classification translator needs the class list before the model is loaded.
 */
final class OnnxClassCount {

    private OnnxClassCount() {
    }

    /** @return the fixed last dimension of the single output, e.g. 1000 for {@code logits [batch,1000]} */
    static int of(Path model) throws IOException {
        GraphProto graph;
        try (InputStream in = Files.newInputStream(model)) {
            graph = ModelProto.parseFrom(in).getGraph();
        }
        if (graph.getOutputCount() != 1) {
            throw new IOException(model + ": expected one output, found " + graph.getOutputCount());
        }
        TensorShapeProto shape = graph.getOutput(0).getType().getTensorType().getShape();
        int rank = shape.getDimCount();
        if (rank < 1 || !shape.getDim(rank - 1).hasDimValue() || shape.getDim(rank - 1).getDimValue() <= 0) {
            throw new IOException(model + ": output '" + graph.getOutput(0).getName()
                    + "' has no fixed class dimension");
        }
        return Math.toIntExact(shape.getDim(rank - 1).getDimValue());
    }
}
