package io.labelstream.bench;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ProcessCpuTest {

    @Test
    void threadsGroupByTheFifteenCharactersTheKernelKeepsOfTheirNames() {
        assertThat(ProcessCpu.group("ls-StreamThread")).isEqualTo("stream thread");
        assertThat(ProcessCpu.group("labelstream-bat")).isEqualTo(ProcessCpu.INFERENCE);
        assertThat(ProcessCpu.group("labelstream-par")).isEqualTo(ProcessCpu.INFERENCE);
        assertThat(ProcessCpu.group("java")).isEqualTo(ProcessCpu.INFERENCE);
        assertThat(ProcessCpu.group("labelstream-pre")).isEqualTo("preprocess (decode, resize)");
        assertThat(ProcessCpu.group("kafka-producer-")).isEqualTo("Kafka client I/O");
        assertThat(ProcessCpu.group("C2 CompilerThre")).isEqualTo("JIT");
        assertThat(ProcessCpu.group("VM Thread")).isEqualTo("GC");
        assertThat(ProcessCpu.group("HTTP-Dispatcher")).isEqualTo("other");
    }

    @Test
    void outsideInferenceIsEveryLiveThreadButThoseRunningOnnxRuntime() {
        ProcessCpu.Snapshot cpu = new ProcessCpu.Snapshot(1_000_000_000L, Map.of(ProcessCpu.INFERENCE, 900_000_000L,
                "preprocess (decode, resize)", 60_000_000L, "JIT", 30_000_000L));
        CostRun.Backlog backlog = new CostRun.Backlog(20, 1.0, cpu, null);
        assertThat(backlog.cpuMsPerImage()).isCloseTo(50.0, within(1e-9));
        assertThat(backlog.outsideInferenceMsPerImage()).isCloseTo(4.5, within(1e-9));
    }
}
