package io.labelstream.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.Reader;
import java.io.Writer;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * A Kafka Connect standalone worker ({@code org.apache.kafka.connect.cli.ConnectStandalone}) in its own JVM, started
 * from property files as a user starts one: the worker's class path and plugins are what
 * {@code mvn -f deploy/connect/pom.xml package} builds (Maven does it into target/connect before the integration
 * tests: {@value #HOME_PROPERTY}), the properties are deploy/connect's with only hosts, ports and paths replaced.
 */
public final class ConnectWorker implements AutoCloseable {

    public static final String HOME_PROPERTY = "labelstream.connect.home";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newHttpClient();

    private ConnectWorker(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** The worker's class path and plugins, when Maven has built them. */
    public static Path home() {
        return Path.of(System.getProperty(HOME_PROPERTY, "target/connect"));
    }

    /**
     * Starts a worker from {@code worker} and {@code connectors} (property files), each copied into {@code workDir}
     * with {@code workerOverrides} or {@code connectorOverrides} put over it. Returns once the process runs; the
     * REST API answers a few seconds later (see {@link #connectors}).
     */
    public static ConnectWorker start(Path workDir, Path worker, Map<String, String> workerOverrides,
                                      List<Path> connectors, Map<String, String> connectorOverrides)
            throws IOException {
        Path home = home();
        if (!Files.isDirectory(home.resolve("worker-lib")) || !Files.isDirectory(home.resolve("plugins"))) {
            throw new IllegalStateException("no Connect worker in " + home.toAbsolutePath()
                    + ": run mvn verify (its pre-integration-test phase builds deploy/connect/pom.xml there)");
        }
        int port = ChildServers.freePort();
        Properties workerProps = load(worker);
        workerProps.putAll(workerOverrides);
        workerProps.put("listeners", "http://127.0.0.1:" + port);
        workerProps.put("plugin.path", home.resolve("plugins").toAbsolutePath().toString());
        workerProps.put("offset.storage.file.filename", workDir.resolve("connect.offsets").toString());
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-Djava.io.tmpdir=" + workDir,
                "-Dlog4j2.configurationFile=" + writeLogConfig(workDir),
                "-cp", home.resolve("worker-lib").toAbsolutePath() + "/*",
                "org.apache.kafka.connect.cli.ConnectStandalone",
                store(workerProps, workDir.resolve(worker.getFileName()))));
        for (Path connector : connectors) {
            Properties props = load(connector);
            props.putAll(connectorOverrides);
            command.add(store(props, workDir.resolve(connector.getFileName())));
        }
        Path log = workDir.resolve("connect.log");
        Process process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(workDir.resolve("connect.out").toFile())).start();
        return new ConnectWorker(process, port, log);
    }

    /**
     * Every connector's state and its tasks' states, e.g. {@code {labelstream-image-labels=RUNNING [RUNNING]}};
     * empty while the REST API does not answer yet.
     */
    public Map<String, String> connectors() {
        if (!process.isAlive()) {
            throw new IllegalStateException("the Connect worker exited with " + process.exitValue() + ":\n"
                    + logTail());
        }
        try {
            HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                    + "/connectors?expand=status")).timeout(Duration.ofSeconds(5)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (response.statusCode() != 200) {
                return Map.of();
            }
            Map<String, String> states = new java.util.TreeMap<>();
            for (var entry : JSON.readTree(response.body()).properties()) {
                JsonNode status = entry.getValue().get("status");
                List<String> tasks = new ArrayList<>();
                status.get("tasks").forEach(t -> tasks.add(t.get("state").asText()
                        + (t.has("trace") ? " " + t.get("trace").asText() : "")));
                states.put(entry.getKey(), status.get("connector").get("state").asText() + " " + tasks);
            }
            return states;
        } catch (IOException e) {
            return Map.of();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The last lines of the worker's log, for assertion messages. */
    public String logTail() {
        return ChildServers.logTail(log, 60);
    }

    /** SIGTERM, as a user stops the worker; forcibly if it has not stopped in 30 s. */
    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static Properties load(Path file) throws IOException {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            props.load(in);
        }
        return props;
    }

    private static String store(Properties props, Path file) throws IOException {
        try (Writer out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            props.store(out, "from deploy/connect, hosts, ports and paths replaced by the test");
        }
        return file.toString();
    }

    /** INFO to a file: Connect logs nothing useful without a configuration, and a test wants the log on failure. */
    private static String writeLogConfig(Path workDir) throws IOException {
        Path config = workDir.resolve("log4j2.properties");
        Files.writeString(config, String.join("\n",
                "appender.file.type=File",
                "appender.file.name=file",
                "appender.file.fileName=" + workDir.resolve("connect.log"),
                "appender.file.layout.type=PatternLayout",
                "appender.file.layout.pattern=%d{HH:mm:ss.SSS} %-5p [%t] %c{1} %m%n",
                "rootLogger.level=INFO",
                "rootLogger.appenderRef.file.ref=file",
                "logger.hibernate.name=org.hibernate",
                "logger.hibernate.level=WARN",
                ""));
        return config.toString();
    }

}
