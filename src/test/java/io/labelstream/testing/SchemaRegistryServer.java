package io.labelstream.testing;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real schema registry for tests: Apicurio Registry 3.3.3 (its Quarkus app, unpacked by the build into
 * {@code target/apicurio-registry}, system property {@code labelstream.registry.home}) run as a child process on
 * 127.0.0.1, with its Confluent-compatible API at {@link #url()}.
 *
 * <p>It needs Java 21 or newer: system property {@code labelstream.registry.java}, by default
 * {@code /usr/lib/jvm/temurin-25-jdk-amd64/bin/java}. Both its HTTP and its management interface listen on
 * 127.0.0.1 only, on free ports (left alone, 3.3.3 opens a management port on 0.0.0.0:9000). Its output goes to
 * {@code target/schema-registry/registry-PORT.log} ({@link #logFile()}); failures quote that file's tail.
 *
 * <p>Storage is H2 in a file under a temporary folder (in {@code java.io.tmpdir}, which the build points at
 * {@code target/tmp}), opened with {@code WRITE_DELAY=0}: each commit is written to the file (not fsynced: enough
 * for a killed process, not for a power cut) before the registry answers, so subjects, versions, compatibility
 * settings and schema ids survive {@link #stop()} / {@link #restart()}, and survived a SIGKILL when tried. (With
 * H2's default write delay, a schema registered just before a SIGKILL was lost; a SIGTERM lost nothing.) New ids
 * continue after the old ones. The
 * settings that make it so: {@code apicurio.datasource.url=jdbc:h2:file:DIR/registry;WRITE_DELAY=0} (default
 * {@code jdbc:h2:mem:db_UUID}); {@code apicurio.storage.kind=sql} and {@code apicurio.storage.sql.kind=h2} are
 * 3.3.3's defaults, and {@code apicurio.sql.init=true} (also default) creates the tables only on an empty
 * database. {@link #close()} deletes the folder.
 *
 * <p>Start-up (to the first 200 from the Confluent API) took 3.6-7 s here, the process about 255-262 MB resident;
 * start one per test class, not per test.
 *
 * <p>Behaviour of its Confluent API (measured on 3.3.3): the same schema registered again under the same subject
 * gets the same id; an unknown id gives 404 {@code {"message":"Schema 999 not found.","error_code":40403}}; an
 * incompatible schema gives 409 {@code {"message":"...RuleViolationException: Incompatible artifact: ...",
 * "error_code":409}}; an unknown subject 404 with error_code 40401, an unknown version 404 with 40402; content that
 * is not a schema 422 with 42201, an unknown compatibility level 422 with 42203. A lookup
 * ({@code POST /subjects/S}, not register) of a missing subject gives 404 / 40401, of a schema not under an
 * existing subject 404 / 40403.
 */
public final class SchemaRegistryServer implements AutoCloseable {

    public static final String HOME_PROPERTY = "labelstream.registry.home";
    public static final String JAVA_PROPERTY = "labelstream.registry.java";
    public static final String DEFAULT_JAVA = "/usr/lib/jvm/temurin-25-jdk-amd64/bin/java";
    public static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private static final Duration READY_BOUND = Duration.ofSeconds(120);
    private static final Duration STOP_BOUND = Duration.ofSeconds(30);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path home;
    private final Path java;
    private final Path dataDir;
    private final Path log;
    private final int httpPort;
    private final int managementPort;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** Kills a registry a test left running when the test JVM exits, so no 260 MB orphan outlives the build. */
    private final Thread reaper = new Thread(this::kill, "schema-registry-reaper");
    /** Writer schemas by id, as {@link #read} fetched them. */
    private final Map<Integer, Schema> schemasById = new ConcurrentHashMap<>();
    private volatile Process process;
    private boolean frozen;

    private SchemaRegistryServer(Path home, Path java, Path dataDir, Path log, int httpPort, int managementPort) {
        this.home = home;
        this.java = java;
        this.dataDir = dataDir;
        this.log = log;
        this.httpPort = httpPort;
        this.managementPort = managementPort;
    }

    /** Starts a registry with an empty store on free ports and returns once its Confluent API answers. */
    public static SchemaRegistryServer start() throws IOException, InterruptedException {
        Path java = registryJava();
        Path home = registryHome();
        Path logDir = Files.createDirectories(Path.of("target", "schema-registry").toAbsolutePath());
        int[] ports = ChildServers.freePorts(2);
        int httpPort = ports[0];
        int managementPort = ports[1];
        Path log = logDir.resolve("registry-" + httpPort + ".log");
        Files.deleteIfExists(log);
        Path dataDir = Files.createTempDirectory("schema-registry-");
        SchemaRegistryServer server = new SchemaRegistryServer(home, java, dataDir, log, httpPort, managementPort);
        Runtime.getRuntime().addShutdownHook(server.reaper);
        try {
            server.launch();
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
        return server;
    }

    /** The Confluent-compatible base URL, what a Confluent client's {@code schema.registry.url} would be. */
    public String url() {
        return "http://127.0.0.1:" + httpPort + "/apis/ccompat/v7";
    }

    public int port() {
        return httpPort;
    }

    /** The registry's output (stdout and stderr, all its runs). */
    public Path logFile() {
        return log;
    }

    /** The running process's id; fails if it is not running. */
    public long pid() {
        return running().pid();
    }

    /**
     * SIGSTOP: the registry keeps its listening sockets (the kernel still completes TCP handshakes) but answers
     * nothing until {@link #thaw()}.
     */
    public void freeze() throws IOException, InterruptedException {
        signal("STOP", running().pid());
        frozen = true;
    }

    /** SIGCONT: a frozen registry carries on, and answers the requests that waited. */
    public void thaw() throws IOException, InterruptedException {
        signal("CONT", running().pid());
        frozen = false;
    }

    /**
     * Stops the registry (SIGTERM, a graceful Quarkus shutdown; SIGKILL if it outlives 30 s) and waits until the
     * process is gone: its port then refuses connections. Its store stays for {@link #restart()}.
     */
    public void stop() throws InterruptedException {
        Process p = process;
        if (p == null) {
            return;
        }
        List<ProcessHandle> descendants = p.descendants().toList();
        try {
            if (frozen && p.isAlive()) {
                try {
                    signal("CONT", p.pid());
                } catch (IOException e) {
                    // SIGKILL below still ends a stopped process.
                }
            }
            p.destroy();
            if (!p.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly();
                p.waitFor(STOP_BOUND.toSeconds(), TimeUnit.SECONDS);
            }
        } finally {
            if (p.isAlive()) {
                p.destroyForcibly();
            }
            descendants.forEach(ProcessHandle::destroyForcibly);
            frozen = false;
            process = null;
        }
    }

    /**
     * Starts the registry again on the same HTTP (and management) port over the same store, and returns once it
     * answers; stops it first if it is running. Schemas, subjects, ids and compatibility settings survive.
     */
    public void restart() throws IOException, InterruptedException {
        stop();
        launch();
    }

    /** Registers {@code avroSchemaJson} under {@code subject} and returns its id (the existing id for a known schema). */
    public int register(String subject, String avroSchemaJson) throws IOException, InterruptedException {
        String body = JSON.writeValueAsString(Map.of("schema", avroSchemaJson));
        JsonNode answer = call("POST", "/subjects/" + encode(subject) + "/versions", body);
        return answer.get("id").asInt();
    }

    /** Sets a subject's compatibility level: BACKWARD, FORWARD, FULL, NONE, their _TRANSITIVE forms. */
    public void setCompatibility(String subject, String level) throws IOException, InterruptedException {
        call("PUT", "/config/" + encode(subject), JSON.writeValueAsString(Map.of("compatibility", level)));
    }

    /** The schema of {@code subject}'s latest version. */
    public Schema latestSchema(String subject) throws IOException, InterruptedException {
        JsonNode answer = call("GET", "/subjects/" + encode(subject) + "/versions/latest", null);
        return new Schema.Parser().parse(answer.get("schema").asText());
    }

    /**
     * Reads a Confluent-framed value as a reader that knows nothing but this registry: the magic byte, the schema
     * id, the writer schema fetched by that id, and the Avro binary read with it.
     */
    public GenericRecord read(byte[] value) throws IOException, InterruptedException {
        if (value.length < 5 || value[0] != 0) {
            throw new IOException("not Confluent-framed: no magic byte 0 and 4-byte schema id");
        }
        int id = ByteBuffer.wrap(value, 1, 4).getInt();
        Schema writer = schemasById.get(id);
        if (writer == null) {
            writer = new Schema.Parser().parse(call("GET", "/schemas/ids/" + id, null).get("schema").asText());
            schemasById.put(id, writer);
        }
        return new GenericDatumReader<GenericRecord>(writer).read(null,
                DecoderFactory.get().binaryDecoder(value, 5, value.length - 5, null));
    }

    /** Stops the registry (see {@link #stop()}) and deletes its store. */
    @Override
    public void close() throws InterruptedException {
        try {
            stop();
        } finally {
            ChildServers.deleteRecursively(dataDir);
            try {
                Runtime.getRuntime().removeShutdownHook(reaper);
            } catch (IllegalStateException e) {
                // The JVM is already shutting down; the hook finds nothing left to kill.
            }
        }
    }

    private void kill() {
        Process p = process;
        if (p != null) {
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
        }
    }

    private void launch() throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(
                java.toString(),
                "-Xmx384m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                // Quarkus, Vert.x and brotli4j unpack into the temp folder: keep that inside the store's folder.
                "-Djava.io.tmpdir=" + dataDir,
                "-Dquarkus.http.host=127.0.0.1",
                "-Dquarkus.http.port=" + httpPort,
                "-Dquarkus.management.host=127.0.0.1",
                "-Dquarkus.management.port=" + managementPort,
                "-Dapicurio.storage.kind=sql",
                "-Dapicurio.storage.sql.kind=h2",
                "-Dapicurio.datasource.url=jdbc:h2:file:" + dataDir.resolve("registry") + ";WRITE_DELAY=0",
                // 20 pooled connections by default; a test registry needs few.
                "-Dapicurio.datasource.jdbc.initial-size=2",
                "-Dapicurio.datasource.jdbc.min-size=2",
                "-Dapicurio.storage.snapshot.location=" + dataDir,
                "-Dapicurio.import.work-dir=" + dataDir,
                "-jar", "quarkus-run.jar"));
        process = new ProcessBuilder(command)
                .directory(home.toFile())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                .start();
        awaitReady();
    }

    /**
     * A start-up poll inside the harness, not a test's wait: the registry's own answer is the fact, and on failure
     * the process must be stopped and its log shown, which a time-out of Awaitility's would not do.
     */
    private void awaitReady() throws IOException, InterruptedException {
        URI probe = URI.create(url() + "/subjects");
        long deadline = System.nanoTime() + READY_BOUND.toNanos();
        String last = "no answer";
        while (true) {
            if (!process.isAlive()) {
                int exit = process.exitValue();
                process = null;
                throw new IllegalStateException("Apicurio Registry exited with " + exit + " before answering on "
                        + probe + "; log " + log + ":\n" + logTail());
            }
            try {
                HttpResponse<String> response = http.send(
                        HttpRequest.newBuilder(probe).timeout(Duration.ofSeconds(2)).GET().build(),
                        HttpResponse.BodyHandlers.ofString());
                if (response.statusCode() == 200) {
                    return;
                }
                last = "HTTP " + response.statusCode() + " " + response.body();
            } catch (IOException e) {
                last = e.toString();
            }
            if (System.nanoTime() > deadline) {
                stop();
                throw new IllegalStateException("Apicurio Registry did not answer GET " + probe + " with 200 within "
                        + READY_BOUND.toSeconds() + " s (last: " + last + "); log " + log + ":\n" + logTail());
            }
            Thread.sleep(50);
        }
    }

    private JsonNode call(String method, String path, String body) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create(url() + path))
                .timeout(Duration.ofSeconds(30))
                .header("Content-Type", CONTENT_TYPE)
                .header("Accept", CONTENT_TYPE + ", application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body))
                .build();
        HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() / 100 != 2) {
            throw new IOException(method + " " + request.uri() + " -> HTTP " + response.statusCode() + ": "
                    + response.body());
        }
        return JSON.readTree(response.body());
    }

    private Process running() {
        if (process == null || !process.isAlive()) {
            throw new IllegalStateException("Apicurio Registry is not running; log " + log);
        }
        return process;
    }

    private String logTail() {
        return ChildServers.logTail(log, 40);
    }

    private static void signal(String signal, long pid) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-" + signal, Long.toString(pid)).redirectErrorStream(true).start();
        String output = new String(kill.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (kill.waitFor() != 0) {
            throw new IOException("kill -" + signal + " " + pid + " failed: " + output.strip());
        }
    }

    private static Path registryHome() {
        String configured = System.getProperty(HOME_PROPERTY);
        Path home = configured == null || configured.isBlank()
                ? Path.of("target", "apicurio-registry").toAbsolutePath()
                : Path.of(configured).toAbsolutePath();
        if (!Files.isRegularFile(home.resolve("quarkus-run.jar"))) {
            throw new IllegalStateException("No Apicurio Registry at " + home + " (no quarkus-run.jar): system property "
                    + HOME_PROPERTY + " names the folder the build unpacks io.apicurio:apicurio-registry-app:tar.gz:all "
                    + "into (mvn pre-integration-test, which verify runs before the ITs)");
        }
        return home;
    }

    private static Path registryJava() throws IOException {
        String configured = System.getProperty(JAVA_PROPERTY);
        Path java = Path.of(configured == null || configured.isBlank() ? DEFAULT_JAVA : configured);
        if (!Files.isExecutable(java)) {
            throw new IllegalStateException("Apicurio Registry 3.3.3 needs Java 21 or newer, and there is no "
                    + "executable " + java + ": set system property " + JAVA_PROPERTY
                    + " to a Java 21+ java binary (default " + DEFAULT_JAVA + ")");
        }
        // A JDK's release file names its version; without one, let the registry's own start-up tell.
        Path release = java.toAbsolutePath().getParent().getParent().resolve("release");
        if (Files.isRegularFile(release)) {
            Matcher m = Pattern.compile("JAVA_VERSION=\"(\\d+)").matcher(Files.readString(release));
            if (m.find() && Integer.parseInt(m.group(1)) < 21) {
                throw new IllegalStateException("Apicurio Registry 3.3.3 needs Java 21 or newer; " + java + " is Java "
                        + m.group(1) + ": set system property " + JAVA_PROPERTY + " to a Java 21+ java binary");
            }
        }
        return java;
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

}
