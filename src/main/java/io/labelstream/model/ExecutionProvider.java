package io.labelstream.model;

import ai.onnxruntime.OrtProvider;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Where inference runs: {@code cpu}, {@code cuda} or {@code tensorrt}, with the devices that each get one
 * inference worker (one ONNX Runtime session). Written {@code kind[:id,id,…]}, e.g. {@code cuda:0,1,2,3};
 * without ids, device 0. For {@code cpu} the ids only name workers: {@code cpu:0,1} runs two CPU sessions, and
 * plain {@code cpu} one worker per {@code model.intra.op.threads} cores ({@link #parse(String, int, int)}).
 */
public record ExecutionProvider(Kind kind, List<Integer> devices) {

    public enum Kind {
        CPU(OrtProvider.CPU), CUDA(OrtProvider.CUDA), TENSORRT(OrtProvider.TENSOR_RT);

        final OrtProvider ortProvider;

        Kind(OrtProvider ortProvider) {
            this.ortProvider = ortProvider;
        }
    }

    public static final ExecutionProvider CPU = new ExecutionProvider(Kind.CPU, List.of(0));

    public ExecutionProvider {
        devices = List.copyOf(devices);
        if (devices.isEmpty()) {
            throw new IllegalArgumentException("at least one device");
        }
    }

    /** Parses {@code kind[:id,id,…]}; the message of a failure says what is allowed. */
    public static ExecutionProvider parse(String text) {
        String t = text.trim().toLowerCase(Locale.ROOT);
        String kindText = t.contains(":") ? t.substring(0, t.indexOf(':')) : t;
        Kind kind;
        try {
            kind = Kind.valueOf(kindText.toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("must be cpu, cuda or tensorrt, optionally with device ids, "
                    + "e.g. cuda:0,1");
        }
        List<Integer> devices = new ArrayList<>();
        if (t.contains(":")) {
            for (String id : t.substring(t.indexOf(':') + 1).split(",")) {
                try {
                    int d = Integer.parseInt(id.trim());
                    if (d < 0 || devices.contains(d)) {
                        throw new NumberFormatException();
                    }
                    devices.add(d);
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("device ids must be distinct integers ≥ 0, e.g. cuda:0,1");
                }
            }
        } else {
            devices.add(0);
        }
        return new ExecutionProvider(kind, devices);
    }

    /**
     * As {@link #parse(String)}, except that plain {@code cpu} divides the machine's {@code cores} into workers of
     * {@code threadsPerWorker} threads each ({@link #cpuWorkers}).
     */
    public static ExecutionProvider parse(String text, int cores, int threadsPerWorker) {
        ExecutionProvider parsed = parse(text);
        return parsed.kind == Kind.CPU && !text.contains(":") ? cpuWorkers(cores, threadsPerWorker) : parsed;
    }

    /**
     * CPU workers of {@code threadsPerWorker} ONNX Runtime threads each, as many as fit in {@code cores} (at least
     * one); 0 threads is one worker with every core. Single-threaded workers are the cheapest per image: no
     * operator waits at a fork-join barrier for a thread that other work has pre-empted.
     */
    public static ExecutionProvider cpuWorkers(int cores, int threadsPerWorker) {
        int workers = threadsPerWorker == 0 ? 1 : Math.max(1, cores / threadsPerWorker);
        return new ExecutionProvider(Kind.CPU, java.util.stream.IntStream.range(0, workers).boxed().toList());
    }

    public boolean isGpu() {
        return kind != Kind.CPU;
    }

    @Override
    public String toString() {
        return kind.name().toLowerCase(Locale.ROOT) + ":" + String.join(",", devices.stream().map(String::valueOf).toList());
    }
}
