package io.labelstream.ops;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The JVM options labelstream's images and manifests start it with (docker/, deploy/), and that the benchmark's
 * {@code labelstream run} processes get, so that what is measured is what is shipped. Both are about what an idle
 * instance wakes up for: on a 2-vCPU virtual machine each wake-up costs a thread 0.1–0.5 ms of CPU.
 * <ul>
 *   <li>{@code -XX:+UseSerialGC}: no G1 service thread waking three times a second and no concurrent GC threads
 *       beside ONNX Runtime's. Under load the collector cost 0.03 ms per image with G1; the JVM itself picks the
 *       serial collector for containers under 2 CPUs or 1792 MB.</li>
 *   <li>{@code -XX:PerfDataSamplingInterval=1000}: the JVM samples its performance counters (jstat's) once a
 *       second instead of twenty times; jstat and jcmd still work. JDK 25 removed that sampling and ignores the
 *       option with a warning: drop it when the images move past JDK 17.</li>
 * </ul>
 * Beside these, the images load {@link #DIRECTIVES_RESOURCE} ({@link #jitOptions}), which is about CPU under load.
 */
public final class ContainerJvm {

    public static final String OPTIONS = "-XX:+UseSerialGC -XX:PerfDataSamplingInterval=1000";

    /** Where the images keep {@link #DIRECTIVES_RESOURCE}. */
    public static final String IMAGE_DIRECTIVES = "/app/jit-directives.json";

    /**
     * HotSpot compiler directives, a class-path resource beside this class: the optimising compiler (C2) only for
     * labelstream's image and model packages, whose per-pixel and per-class loops need it; every other method
     * stays with the quick compiler (C1). The Kafka clients' and Streams' per-request and per-record paths run a
     * few times a second, so they reach C2's thresholds only after minutes, and C2 then compiles each with up to
     * about 9 KB of inlined bytecode, 0.2–0.7 s of a core's time apiece on a 2-vCPU host: about 1 ms of CPU per
     * int8 ResNet-50 image through at least the first four minutes, a third of what labelstream adds to the model.
     * With these directives that fell to 0.23 ms, and those paths cost about 0.04 ms per image more, then in C1's
     * profiling code ({@link #LUKEWARM_THRESHOLD_SCALING} takes them on to plain C1 code; docs/benchmarks.md).
     * A missing or malformed file stops the JVM at start-up.
     */
    public static final String DIRECTIVES_RESOURCE = "jit-directives.json";

    /**
     * The factor on the compile thresholds of every method the directives keep from C2. Such a method reaches
     * C1's plain code (tier 1) only by way of the interpreter, then C1's profiling code (tier 3, slower than C1's
     * counting-only code by about 30 % in HotSpot's own reckoning), then a refused request for C2 at C2's
     * thresholds: for a path that runs a few times a second, minutes in code slower than it need be. At 0.01 it is
     * compiled at tier 3 on its second call and at tier 1 within about 70. In the first minute of an int8
     * ResNet-50 backlog on a 2-vCPU host the stream thread and the Kafka clients' threads then cost 0.38 ms per
     * image instead of 0.65–0.72, and the JIT 0.05–0.06 instead of 0.22–0.27, for 2.4–3.9 s more CPU at start-up,
     * where every method called twice is compiled, and readiness about a second later (docs/benchmarks.md).
     */
    static final String LUKEWARM_THRESHOLD_SCALING = "0.01";

    /** The methods {@link #DIRECTIVES_RESOURCE} gives to C2, in HotSpot's pattern syntax (a test keeps both equal). */
    static final List<String> C2_PATTERNS = List.of("io/labelstream/image/*.*", "io/labelstream/model/*.*");

    /**
     * The options that load compiler directives from {@code file}, and scale the compile thresholds of the methods
     * they keep from C2 ({@link #LUKEWARM_THRESHOLD_SCALING}); the unlock must come first. A later
     * {@code CompileCommand} takes precedence over an earlier one that matches the same method, so the image and
     * model packages' methods, which C2 compiles, keep the JVM's own thresholds. The JVM announces the
     * directives and commands it added on standard output, which commands such as {@code tail --json} keep for
     * their own output, so the VM's messages go to standard error.
     */
    public static List<String> jitOptions(String file) {
        List<String> options = new ArrayList<>(List.of("-XX:+UnlockDiagnosticVMOptions",
                "-XX:CompilerDirectivesFile=" + file, "-XX:+DisplayVMOutputToStderr",
                "-XX:CompileCommand=CompileThresholdScaling,*.*," + LUKEWARM_THRESHOLD_SCALING));
        C2_PATTERNS.forEach(pattern -> options.add("-XX:CompileCommand=CompileThresholdScaling," + pattern + ",1.0"));
        return List.copyOf(options);
    }

    /** Writes {@link #DIRECTIVES_RESOURCE} into {@code dir}, for a JVM started from here, and returns its path. */
    public static Path writeDirectives(Path dir) throws IOException {
        Path file = dir.resolve(DIRECTIVES_RESOURCE);
        try (InputStream in = ContainerJvm.class.getResourceAsStream(DIRECTIVES_RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(DIRECTIVES_RESOURCE + " is missing from the class path");
            }
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    private ContainerJvm() {
    }
}
