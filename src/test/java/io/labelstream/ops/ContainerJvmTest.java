package io.labelstream.ops;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ContainerJvmTest {

    /**
     * A JVM refuses to start on a directives file it cannot parse, so the shipped one is loaded by a real JVM:
     * both directives must be added, with every option the images use beside them.
     */
    @Test
    void aJvmStartsWithTheShippedOptionsAndAddsBothCompilerDirectives(@TempDir Path dir) throws Exception {
        Path file = ContainerJvm.writeDirectives(dir);
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(ContainerJvm.OPTIONS.split(" ")));
        command.addAll(ContainerJvm.jitOptions(file.toString()));
        command.add("-version");
        Process jvm = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jvm.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(jvm.exitValue()).as(output).isZero();
        assertThat(output).contains("2 compiler directives added");
    }

    @Test
    void aMissingDirectivesFileStopsTheJvm(@TempDir Path dir) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(ContainerJvm.jitOptions(dir.resolve("absent.json").toString()));
        command.add("-version");
        Process jvm = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(jvm.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(jvm.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(jvm.exitValue()).isNotZero();
        assertThat(output).contains("absent.json");
    }
}
