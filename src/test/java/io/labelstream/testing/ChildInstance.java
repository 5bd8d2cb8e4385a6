package io.labelstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code labelstream run} in its own JVM, on this test's classpath, so a test can SIGKILL it mid-batch: a real
 * crash, with no shutdown hook, no final commit and an open transaction left behind. Or any command as a user runs
 * it, {@code java -jar target/labelstream.jar ...} ({@link #jar}).
 */
public final class ChildInstance implements AutoCloseable {

    private final Process process;
    private final Path log;

    private ChildInstance(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static ChildInstance start(String name, Map<String, String> settings) throws IOException {
        List<String> command = java("-Xmx1g");
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.labelstream.cli.Main");
        command.add("run");
        settings.forEach((k, v) -> {
            command.add("-s");
            command.add(k + "=" + v);
        });
        return launch(name, command, Map.of());
    }

    /**
     * {@code java -jar target/labelstream.jar ARGS}, the jar {@code mvn package} builds, with {@code environment}
     * added to this JVM's own; its output (stdout and stderr) goes to {@code target/child-instances/NAME.log}.
     */
    public static ChildInstance jar(String name, List<String> args, Map<String, String> environment)
            throws IOException {
        Path jar = Path.of("target", "labelstream.jar").toAbsolutePath();
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("No " + jar + ": mvn package builds it (verify runs package before the ITs)");
        }
        List<String> command = java("-Xmx512m");
        command.add("-jar");
        command.add(jar.toString());
        command.addAll(args);
        return launch(name, command, environment);
    }

    private static List<String> java(String heap) {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add(heap);
        command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        return command;
    }

    private static ChildInstance launch(String name, List<String> command, Map<String, String> environment)
            throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "child-instances").toAbsolutePath());
        Path log = dir.resolve(name + ".log");
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(environment);
        return new ChildInstance(builder.start(), log);
    }

    /**
     * Waits until a line of the output matches {@code pattern} and returns that match; stops waiting, quoting the
     * output, when the process has ended without it.
     */
    public Matcher awaitLine(Pattern pattern, Duration atMost) throws IOException {
        await("a line matching " + pattern + " in " + log).atMost(atMost).pollInSameThread()
                .failFast(() -> assertThat(isAlive() || line(pattern) != null)
                        .as("still running or done with the line; its output:%n%s", log()).isTrue())
                .until(() -> line(pattern) != null);
        return line(pattern);
    }

    /** The first line of the output that matches, or null. */
    private Matcher line(Pattern pattern) throws IOException {
        for (String line : log().split("\\R")) {
            Matcher m = pattern.matcher(line);
            if (m.find()) {
                return m;
            }
        }
        return null;
    }

    /** SIGKILL: the JVM gets no chance to commit, flush or close anything. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** SIGTERM, as Kubernetes or systemd stops a process; returns the exit code, or -1 if it outlives the wait. */
    public int terminate(long waitSeconds) throws InterruptedException {
        process.destroy();
        return process.waitFor(waitSeconds, TimeUnit.SECONDS) ? process.exitValue() : -1;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    public String log() throws IOException {
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            kill();
        }
    }
}
