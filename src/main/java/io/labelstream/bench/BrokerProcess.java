package io.labelstream.bench;

import io.labelstream.broker.EmbeddedKafka;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A single-node Kafka broker in its own JVM, as a user runs one beside labelstream: its threads and its CPU are
 * not the measured process's, so a benchmark's CPU per image is labelstream's own. It stops when its standard
 * input closes, so it never outlives the benchmark that started it.
 */
final class BrokerProcess implements AutoCloseable {

    private final Process process;
    private final String bootstrapServers;

    private BrokerProcess(Process process, String bootstrapServers) {
        this.process = process;
        this.bootstrapServers = bootstrapServers;
    }

    /** Starts the broker JVM and waits (at most two minutes) until it accepts clients. */
    static BrokerProcess start() throws IOException, InterruptedException, TimeoutException {
        Path dir = Files.createTempDirectory("labelstream-bench-broker");
        Path ready = dir.resolve("bootstrap.servers");
        Path log = dir.resolve("broker.log");
        Process process = new ProcessBuilder(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-Xmx1g", "-cp", System.getProperty("java.class.path"), BrokerProcess.class.getName(),
                ready.toString())).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
        while (!Files.exists(ready)) {
            if (!process.isAlive()) {
                throw new IllegalStateException("the broker process exited with " + process.exitValue() + "; see "
                        + log);
            }
            if (System.nanoTime() > deadline) {
                process.destroyForcibly();
                throw new TimeoutException("the broker process was not ready in 2 minutes; see " + log);
            }
            Thread.sleep(100);
        }
        return new BrokerProcess(process, Files.readString(ready).strip());
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    long pid() {
        return process.pid();
    }

    @Override
    public void close() throws InterruptedException {
        try {
            process.getOutputStream().close();
        } catch (IOException e) {
            process.destroy();
        }
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
        }
    }

    /** The broker JVM: writes its bootstrap servers to {@code args[0]} once ready, stops when stdin closes. */
    public static void main(String[] args) throws IOException {
        try (EmbeddedKafka broker = EmbeddedKafka.start()) {
            Path ready = Path.of(args[0]);
            Path partial = ready.resolveSibling(ready.getFileName() + ".partial");
            Files.writeString(partial, broker.bootstrapServers(), StandardCharsets.UTF_8);
            Files.move(partial, ready);
            InputStream in = System.in;
            while (in.read() >= 0) {
                // nothing: only the end of the stream matters
            }
        }
    }
}
