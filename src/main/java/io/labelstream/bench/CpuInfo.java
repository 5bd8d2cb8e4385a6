package io.labelstream.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/** The CPU a benchmark ran on and the instruction sets that decide its int8 and fp32 speed. */
final class CpuInfo {

    @SuppressWarnings("unused")
    private static volatile double result;

    private CpuInfo() {
    }

    static String describe() {
        String model = System.getProperty("os.arch");
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException | RuntimeException e) {
            return "CPU: " + model + " (features unknown: " + e.getMessage() + ")";
        }
        Set<String> flags = io.labelstream.model.Int8Kernels.cpuFlags(Path.of("/proc/cpuinfo"));
        Map<String, Boolean> features = new LinkedHashMap<>();
        features.put("AVX2", flags.contains("avx2"));
        features.put("AVX-512", flags.contains("avx512f"));
        features.put("AVX-512 VNNI", flags.contains("avx512_vnni"));
        features.put("AVX-VNNI", flags.contains("avx_vnni"));
        features.put("AMX", flags.contains("amx_int8"));
        StringBuilder b = new StringBuilder("CPU: ").append(model).append(" (");
        features.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '(' ? "" : ", ").append(k).append(v ? " yes" : " no"));
        b.append("), ").append(Runtime.getRuntime().availableProcessors()).append(" vCPUs");
        if (Runtime.getRuntime().availableProcessors() >= 2) {
            double scaling = twoThreadScaling();
            b.append(String.format(java.util.Locale.ROOT, "; an FMA loop on 2 threads does %.2f× the work of 1 (%s)",
                    scaling, scaling < 1.4 ? "they share one core's execution units, like hardware threads: "
                            + "anything beside ONNX Runtime's threads slows them" : "separate cores"));
        }
        return b.toString();
    }

    /**
     * Floating-point multiply-adds per second on two threads ÷ on one, best of three tries each: near 2 on two
     * real cores, near 1 when the two vCPUs are hardware threads of one core (or one core time-sliced).
     */
    static double twoThreadScaling() {
        double one = 0;
        double two = 0;
        for (int i = 0; i < 3; i++) {
            one = Math.max(one, fmaRate(1));
            two = Math.max(two, fmaRate(2));
        }
        return two / one;
    }

    /** Multiply-adds per second of {@code threads} threads running independent FMA chains for about 300 ms. */
    private static double fmaRate(int threads) {
        long iterations = 20_000_000L;
        Thread[] workers = new Thread[threads];
        double[] sink = new double[threads];
        long t0 = System.nanoTime();
        for (int t = 0; t < threads; t++) {
            int slot = t;
            // Joined below; daemon so that an interrupted measurement cannot keep the JVM alive.
            workers[t] = new Thread(() -> sink[slot] = fmaChains(iterations), "labelstream-fma-probe-" + t);
            workers[t].setDaemon(true);
            workers[t].start();
        }
        for (Thread w : workers) {
            try {
                w.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return Double.NaN;
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        result = Arrays.stream(sink).sum(); // published, so the JIT cannot drop the loops
        return threads * iterations * 8 / seconds;
    }

    /** Eight independent chains, so the loop is bound by the FMA units' throughput, not one chain's latency. */
    private static double fmaChains(long iterations) {
        double a = 1, b = 1.1, c = 1.2, d = 1.3, e = 1.4, f = 1.5, g = 1.6, h = 1.7;
        double x = 0.999_999, y = 1e-7;
        for (long i = 0; i < iterations; i++) {
            a = Math.fma(a, x, y);
            b = Math.fma(b, x, y);
            c = Math.fma(c, x, y);
            d = Math.fma(d, x, y);
            e = Math.fma(e, x, y);
            f = Math.fma(f, x, y);
            g = Math.fma(g, x, y);
            h = Math.fma(h, x, y);
        }
        return a + b + c + d + e + f + g + h;
    }
}
