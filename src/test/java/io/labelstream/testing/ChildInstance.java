package io.labelstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code labelstream run} in its own JVM, on this test's classpath, so a test can SIGKILL it mid-batch: a real
 * crash, with no shutdown hook, no final commit and an open transaction left behind.
 */
public final class ChildInstance implements AutoCloseable {

    private final Process process;
    private final Path log;

    private ChildInstance(Process process, Path log) {
        this.process = process;
        this.log = log;
    }

    public static ChildInstance start(String name, Map<String, String> settings) throws IOException {
        Path dir = Files.createDirectories(Path.of("target", "child-instances").toAbsolutePath());
        Path log = dir.resolve(name + ".log");
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx1g");
        command.add("-Djava.io.tmpdir=" + System.getProperty("java.io.tmpdir"));
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add("io.labelstream.cli.Main");
        command.add("run");
        settings.forEach((k, v) -> {
            command.add("-s");
            command.add(k + "=" + v);
        });
        Process process = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        return new ChildInstance(process, log);
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
