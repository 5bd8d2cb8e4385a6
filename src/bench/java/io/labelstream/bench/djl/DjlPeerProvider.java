package io.labelstream.bench.djl;

import ai.djl.engine.Engine;
import io.labelstream.bench.PeerEngine;

import java.nio.file.Path;

/** Deep Java Library as a benchmark peer: its OnnxRuntime engine runs the model, its PyTorch engine the transforms. */
public final class DjlPeerProvider implements PeerEngine.Provider {

    @Override
    public String name() {
        return "djl";
    }

    @Override
    public void initialize() {
        // Nothing may be downloaded: libtorch comes from pytorch-native-cpu on the classpath and ORT is the
        // project's own jar. DJL reads this property on each lookup, so setting it before first use is enough.
        System.setProperty("ai.djl.offline", "true");
        // DJL's engine builds ORT's process-wide environment with thread-pool options, which ORT accepts only
        // while no environment exists yet; hence before the engine or the bare loop touch ORT.
        try {
            Engine.getEngine("OnnxRuntime");
        } catch (ExceptionInInitializerError e) {
            // DJL builds the engine in a class initializer, so after this failure it stays unusable in this JVM.
            if (e.getCause() instanceof IllegalStateException) {
                throw new IllegalStateException("DJL cannot start its OnnxRuntime engine: ONNX Runtime's environment "
                        + "was created before PeerEngine.Provider.initialize()", e.getCause());
            }
            throw e;
        }
        // Loads (and on first use extracts) libtorch now, so that cost is not charged to the first batch.
        Engine.getEngine("PyTorch");
    }

    @Override
    public PeerEngine open(Path model, int threads) throws Exception {
        return DjlPeerEngine.open(model, threads);
    }
}
