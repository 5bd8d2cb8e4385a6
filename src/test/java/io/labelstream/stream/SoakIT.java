package io.labelstream.stream;

import io.labelstream.cli.CliTestAccess;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The 2-minute soak of .ci/run: steady load, and no resource that keeps growing. */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SoakIT {

    @TempDir
    Path dir;

    @Test
    void steadyLoadLeavesHeapThreadsAndFilesBounded() {
        String duration = System.getProperty("soak.duration", "PT2M");
        var run = ConsoleCapture.run(() -> CliTestAccess.execute("bench", "soak", "--duration", duration, "--rate",
                "15", "--model", TestModels.resnet18().toString(), "-s", "state.dir=" + dir));
        System.out.println(run.out());
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("resources bounded").containsPattern("soak: [0-9.]+ labels/s");
    }
}
