package io.labelstream.model;

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

    public SessionSettings withProvider(ExecutionProvider newProvider) {
        return new SessionSettings(intraOpThreads, interOpThreads, optimization, optimizedCacheDir, newProvider,
                cpuFallback);
    }
}
