package io.labelstream.model;

import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.file.Path;

/**
 * ONNX Runtime session options a user may tune.
 *
 * @param intraOpThreads    threads ORT uses inside one operator, per worker; 0 shares the cores among workers
 * @param interOpThreads    threads running independent operators in parallel; 1 (sequential) suits CNNs
 * @param optimization      graph optimization level: all (default), extended, basic or none
 * @param optimizedCacheDir where optimized models are kept between starts (null: none)
 * @param provider          CPU, CUDA or TensorRT, and the devices that each get a worker
 * @param cpuFallback       use the CPU when the requested GPU provider is unavailable, instead of failing
 */
public record SessionSettings(int intraOpThreads, int interOpThreads, String optimization, Path optimizedCacheDir,
                              ExecutionProvider provider, boolean cpuFallback) {

    public static SessionSettings defaults() {
        return new SessionSettings(0, 1, "all", null, ExecutionProvider.CPU, false);
    }

    public SessionSettings(int intraOpThreads) {
        this(intraOpThreads, 1, "all", null, ExecutionProvider.CPU, false);
    }

    /** The ONNX Runtime level {@code optimization} names; anything unknown is the fastest, all. */
    public OrtSession.SessionOptions.OptLevel optimizationLevel() {
        return switch (optimization.toLowerCase(java.util.Locale.ROOT)) {
            case "none" -> OrtSession.SessionOptions.OptLevel.NO_OPT;
            case "basic" -> OrtSession.SessionOptions.OptLevel.BASIC_OPT;
            case "extended" -> OrtSession.SessionOptions.OptLevel.EXTENDED_OPT;
            default -> OrtSession.SessionOptions.OptLevel.ALL_OPT;
        };
    }

    /**
     * The session options every labelstream session is opened with; the caller closes them. A benchmark's bare
     * ONNX Runtime loop opens its session with the same, so the two differ only in what labelstream adds.
     *
     * @param level          the graph optimization to apply (a model already optimized is loaded with none)
     * @param intraOpThreads 0 lets ORT use every core
     */
    public OrtSession.SessionOptions toOrtOptions(OrtSession.SessionOptions.OptLevel level, int intraOpThreads)
            throws OrtException {
        OrtSession.SessionOptions options = new OrtSession.SessionOptions();
        options.setOptimizationLevel(level);
        options.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        if (intraOpThreads > 0) {
            options.setIntraOpNumThreads(intraOpThreads);
        }
        options.setInterOpNumThreads(Math.max(1, interOpThreads));
        // Idle ORT threads otherwise spin for a while after each run, taking the cores that decode the next batch.
        options.addConfigEntry("session.intra_op.allow_spinning", "0");
        return options;
    }

    public SessionSettings withProvider(ExecutionProvider newProvider) {
        return new SessionSettings(intraOpThreads, interOpThreads, optimization, optimizedCacheDir, newProvider,
                cpuFallback);
    }
}
