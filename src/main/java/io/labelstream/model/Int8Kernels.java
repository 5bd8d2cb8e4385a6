package io.labelstream.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * Whether ONNX Runtime's CPU int8 kernels on this machine add pairs of uint8 × int8 products in int16 and so
 * saturate on full-range weights: x86 without VNNI (AVX2, SSE4.1, AVX-512 without VNNI) uses VPMADDUBSW; VNNI
 * (AVX512_VNNI, AVX_VNNI) and ARM's dot-product instructions accumulate in int32.
 */
public final class Int8Kernels {

    private Int8Kernels() {
    }

    public static boolean saturateOnFullRangeWeights() {
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!arch.equals("amd64") && !arch.equals("x86_64")) {
            return false;
        }
        return !hasVnni(cpuFlags(Path.of("/proc/cpuinfo")));
    }

    static boolean hasVnni(Set<String> flags) {
        return flags.contains("avx512_vnni") || flags.contains("avx_vnni");
    }

    /** The first "flags" line of a /proc/cpuinfo; empty when it cannot be read (then VNNI counts as absent). */
    public static Set<String> cpuFlags(Path cpuinfo) {
        try (var lines = Files.lines(cpuinfo)) {
            return lines.filter(l -> l.startsWith("flags")).findFirst()
                    .map(l -> Set.of(l.substring(l.indexOf(':') + 1).trim().split("\\s+"))).orElse(Set.of());
        } catch (IOException | RuntimeException e) {
            return Set.of();
        }
    }
}
