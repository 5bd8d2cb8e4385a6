package io.labelstream.ops;

import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
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

    /**
     * The scaled thresholds reach only the methods the directives keep from C2. With compiles made synchronous
     * (-Xbatch), 150 calls take such a method through C1's profiling tier (3) to its plain one (1), which it
     * reaches within about 70; the same calls leave a method of the image package, which C2 compiles, uncompiled,
     * as the JVM's own thresholds (200 calls) would.
     */
    @Test
    void methodsKeptFromC2ReachPlainC1CodeWithin150CallsAndImageCodeKeepsItsThresholds(@TempDir Path dir)
            throws Exception {
        Path file = ContainerJvm.writeDirectives(dir);
        List<String> command = new ArrayList<>(ContainerJvm.jitOptions(file.toString()));
        command.addAll(List.of("-Xbatch", "-XX:+PrintCompilation", "-cp", System.getProperty("java.class.path"),
                CompileThresholdProbe.class.getName(), "150"));
        Finished jvm = java(command, dir);
        assertThat(jvm.exitValue()).as(jvm.err()).isZero();
        List<String> compiles = jvm.err().lines().filter(l -> l.contains("::lukewarm")).toList();
        String probe = CompileThresholdProbe.class.getName() + "::lukewarm";
        assertThat(compiles).as(jvm.err())
                .anySatisfy(l -> assertThat(l).containsPattern(" 3 +" + java.util.regex.Pattern.quote(probe)))
                .anySatisfy(l -> assertThat(l).containsPattern(" 1 +" + java.util.regex.Pattern.quote(probe)))
                .noneSatisfy(l -> assertThat(l).contains(io.labelstream.image.ImageCodeProbe.class.getName()));
    }

    /** The packages whose thresholds the options leave alone are the ones the directives give to C2. */
    @Test
    void theThresholdsKeptAreThoseOfThePackagesTheDirectivesGiveToC2(@TempDir Path dir) throws Exception {
        // HotSpot's directives are JSON with unquoted keys.
        JsonNode directives = JsonMapper.builder().enable(JsonReadFeature.ALLOW_UNQUOTED_FIELD_NAMES).build()
                .readTree(ContainerJvm.writeDirectives(dir).toFile());
        List<String> c2Patterns = new ArrayList<>();
        for (JsonNode directive : directives) {
            if (!directive.at("/c2/Exclude").asBoolean(true)) {
                directive.get("match").forEach(pattern -> c2Patterns.add(pattern.asText()));
            }
        }
        assertThat(c2Patterns).containsExactlyInAnyOrderElementsOf(ContainerJvm.C2_PATTERNS);
        // Kept: set back to the JVM's own thresholds after the general scaling, so that they win.
        List<String> scalings = ContainerJvm.jitOptions("f").stream()
                .filter(o -> o.startsWith("-XX:CompileCommand=CompileThresholdScaling,")).toList();
        List<String> kept = scalings.stream().filter(o -> o.endsWith(",1.0")).map(o -> o.split(",")[1]).toList();
        assertThat(kept).containsExactlyInAnyOrderElementsOf(c2Patterns);
        assertThat(scalings.get(0)).contains(",*.*,");
    }

    @Test
    void aMissingDirectivesFileStopsTheJvm(@TempDir Path dir) throws Exception {
        Finished jvm = javaVersion(ContainerJvm.jitOptions(dir.resolve("absent.json").toString()), dir);
        assertThat(jvm.exitValue()).isNotZero();
        assertThat(jvm.out() + jvm.err()).contains("absent.json");
    }

    private record Finished(int exitValue, String out, String err) {
    }

    /** {@code java -version} with {@code options}. */
    private static Finished javaVersion(List<String> options, Path dir) throws Exception {
        List<String> arguments = new ArrayList<>(options);
        arguments.add("-version");
        return java(arguments, dir);
    }

    /** A JVM with {@code arguments}, its two streams in files so that a hung JVM cannot block here. */
    private static Finished java(List<String> arguments, Path dir) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(arguments);
        Path out = dir.resolve("out.txt");
        Path err = dir.resolve("err.txt");
        ProcessBuilder builder = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile());
        // Options from the environment would add to the ones under test (and the JVM announces them on stderr).
        builder.environment().remove("JAVA_TOOL_OPTIONS");
        builder.environment().remove("_JAVA_OPTIONS");
        builder.environment().remove("JDK_JAVA_OPTIONS");
        Process jvm = builder.start();
        try {
            assertThat(jvm.waitFor(2, TimeUnit.MINUTES)).as("the child JVM ended").isTrue();
        } finally {
            jvm.destroyForcibly();
        }
        return new Finished(jvm.exitValue(), Files.readString(out), Files.readString(err));
    }
}
