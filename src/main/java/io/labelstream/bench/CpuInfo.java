package io.labelstream.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/** The CPU a benchmark ran on and the instruction sets that decide its int8 and fp32 speed. */
final class CpuInfo {

    private CpuInfo() {
    }

    static String describe() {
        String model = System.getProperty("os.arch");
        Set<String> flags = Set.of();
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/cpuinfo"));
            for (String line : lines) {
                if (line.startsWith("model name")) {
                    model = line.substring(line.indexOf(':') + 1).trim();
                } else if (line.startsWith("flags") && flags.isEmpty()) {
                    flags = Set.of(line.substring(line.indexOf(':') + 1).trim().split("\\s+"));
                }
            }
        } catch (IOException | RuntimeException e) {
            return "CPU: " + model + " (features unknown: " + e.getMessage() + ")";
        }
        Map<String, Boolean> features = new LinkedHashMap<>();
        features.put("AVX2", flags.contains("avx2"));
        features.put("AVX-512", flags.contains("avx512f"));
        features.put("AVX-512 VNNI", flags.contains("avx512_vnni"));
        features.put("AVX-VNNI", flags.contains("avx_vnni"));
        features.put("AMX", flags.contains("amx_int8"));
        StringBuilder b = new StringBuilder("CPU: ").append(model).append(" (");
        features.forEach((k, v) -> b.append(b.charAt(b.length() - 1) == '(' ? "" : ", ").append(k).append(v ? " yes" : " no"));
        return b.append(")").toString();
    }
}
