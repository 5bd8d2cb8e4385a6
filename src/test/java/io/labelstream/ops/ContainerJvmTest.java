package io.labelstream.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ContainerJvmTest {

    /**
     * A JVM refuses to start on a directives file it cannot parse, so the shipped one is loaded by a real JVM with
     * every option the images use: both directives must be added, and said so on standard error, since standard
     * output belongs to commands such as {@code tail --json}.
     */
    @Test
    void aJvmStartsWithTheShippedOptionsAndAddsBothCompilerDirectives(@TempDir Path dir) throws Exception {
        Path file = ContainerJvm.writeDirectives(dir);
        List<String> options = new ArrayList<>(List.of(ContainerJvm.OPTIONS.split(" ")));
        options.addAll(ContainerJvm.jitOptions(file.toString()));
        Finished jvm = javaVersion(options, dir);
        assertThat(jvm.exitValue()).as(jvm.err()).isZero();
        assertThat(jvm.err()).contains("2 compiler directives added");
        assertThat(jvm.out()).isEmpty();
    }

    @Test
    void aMissingDirectivesFileStopsTheJvm(@TempDir Path dir) throws Exception {
        Finished jvm = javaVersion(ContainerJvm.jitOptions(dir.resolve("absent.json").toString()), dir);
        assertThat(jvm.exitValue()).isNotZero();
        assertThat(jvm.out() + jvm.err()).contains("absent.json");
    }

    private record Finished(int exitValue, String out, String err) {
    }

    /** {@code java -version} with {@code options}, its two streams in files so that a hung JVM cannot block here. */
    private static Finished javaVersion(List<String> options, Path dir) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(options);
        command.add("-version");
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        Process jvm = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            assertThat(jvm.waitFor(2, TimeUnit.MINUTES)).as("java -version ended").isTrue();
        } finally {
            jvm.destroyForcibly();
        }
        return new Finished(jvm.exitValue(), Files.readString(out), Files.readString(err));
    }
}
