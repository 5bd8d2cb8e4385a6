package io.labelstream.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.BatchOutcome;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import io.labelstream.stream.Pipeline;
import io.labelstream.testing.SchemaRegistryServer;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Python client in src/examples/python, written only from schemas/ (python3-avro, python3-confluent-kafka):
 * its single-object fingerprints are Java's, and it publishes images that labelstream labels on a real broker and
 * reads the labels and failures back, with and without a schema registry (a real Apicurio,
 * {@link SchemaRegistryServer}). .ci/run installs both packages, so under CI their absence fails.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class PythonClientIT {

    private static final Path EXAMPLE = Path.of("src/examples/python");

    @TempDir
    Path dir;

    @BeforeAll
    static void requirePython() throws Exception {
        Run probe = python(List.of("-c", "import avro, confluent_kafka"), Duration.ofSeconds(60));
        if ("true".equals(System.getenv("CI"))) {
            assertThat(probe.exit()).as("python3-avro and python3-confluent-kafka under CI: " + probe.output())
                    .isZero();
        }
        assumeTrue(probe.exit() == 0, () -> "Python client tests skipped (apt install python3-avro "
                + "python3-confluent-kafka): " + probe.output());
    }

    private record Run(int exit, String output) {
    }

    /** Debian's own interpreter, where apt installs the packages (a pyenv or venv python3 may come first on PATH). */
    private static final String PYTHON = Files.isExecutable(Path.of("/usr/bin/python3")) ? "/usr/bin/python3"
            : "python3";

    private static Run python(List<String> args, Duration limit) throws Exception {
        List<String> command = new ArrayList<>(List.of(PYTHON));
        command.addAll(args);
        Process process;
        try {
            ProcessBuilder builder = new ProcessBuilder(command).directory(EXAMPLE.toFile()).redirectErrorStream(true);
            // No __pycache__ left in the source tree.
            builder.environment().put("PYTHONDONTWRITEBYTECODE", "1");
            process = builder.start();
        } catch (IOException e) {
            return new Run(-1, "no python3: " + e.getMessage());
        }
        process.getOutputStream().close();
        var output = new java.io.ByteArrayOutputStream();
        Thread reader = new Thread(() -> {
            try {
                process.getInputStream().transferTo(output);
            } catch (IOException ignored) {
                // the process ended
            }
        });
        reader.start();
        if (!process.waitFor(limit.toSeconds(), TimeUnit.SECONDS)) {
            process.destroyForcibly();
            reader.join(5_000);
            throw new AssertionError("python3 " + args + " did not finish in " + limit + ":\n" + output);
        }
        reader.join(5_000);
        return new Run(process.exitValue(), output.toString(StandardCharsets.UTF_8));
    }

    @Test
    void itsFingerprintsAreJavasAndTheTopicsPageGivesThem() throws Exception {
        Run run = python(List.of("labelstream_avro.py", "../../../schemas"), Duration.ofSeconds(60));
        assertThat(run.exit()).as(run.output()).isZero();
        Map<String, String> java = new LinkedHashMap<>();
        java.put("ImageEvent", hex(ImageEvent.getClassSchema()));
        java.put("ImageLabels", hex(ImageLabels.getClassSchema()));
        java.put("ImageFailure", hex(ImageFailure.getClassSchema()));
        java.put("ImageLabelRow", hex(io.labelstream.schema.ImageLabelRow.getClassSchema()));
        java.put("ImageLabelRank", hex(io.labelstream.schema.ImageLabelRank.getClassSchema()));
        java.put("ImageReview", hex(ImageReview.getClassSchema()));
        String page = Files.readString(Path.of("docs/topics-and-schemas.md"));
        for (String record : List.of("ImageLabels", "ImageFailure")) {
            List<org.apache.avro.Schema> older = SchemaHistory.load(PythonClientIT.class.getClassLoader(),
                    SchemaHistory.DEFAULT_FOLDER, record);
            assertThat(older).isNotEmpty();
            for (int v = 0; v < older.size(); v++) {
                assertThat(run.output()).contains("history/" + record + "-v" + (v + 1) + " " + hex(older.get(v)));
            }
        }
        java.forEach((name, fingerprint) -> {
            assertThat(run.output()).as(name).contains(name + " " + fingerprint);
            assertThat(page).as("docs/topics-and-schemas.md gives %s's fingerprint", name)
                    .contains("| `" + name + "` | `" + fingerprint + "` |");
        });
    }

    private static String hex(org.apache.avro.Schema schema) {
        return String.format("%016x", SchemaNormalization.parsingFingerprint64(schema));
    }

    @Test
    void imagesItPublishesAreLabeledAndItReadsTheLabelsAndFailuresBack() throws Exception {
        Map<String, byte[]> images = new LinkedHashMap<>();
        for (int i = 0; i < 5; i++) {
            images.put("python-" + i + ".png", SyntheticImages.png(SyntheticImages.image(96, 64, i)));
        }
        images.put("python-broken.jpg", "not an image".getBytes(StandardCharsets.UTF_8));
        List<String> paths = new ArrayList<>();
        for (var e : images.entrySet()) {
            paths.add(Files.write(dir.resolve(e.getKey()), e.getValue()).toString());
        }
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Map<String, String> s = new HashMap<>();
            s.put("bootstrap.servers", kafka.bootstrapServers());
            s.put("application.id", "python-client");
            s.put("model.path", TestModels.resnet18().toString());
            s.put("state.dir", dir.resolve("state").toString());
            LabelstreamConfig config = LabelstreamConfig.of(s);
            try (LabelingEngine engine = EngineFactory.create(config)) {
                Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
                try {
                    assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).isTrue();
                    List<String> produce = new ArrayList<>(List.of("producer.py", "--bootstrap-servers",
                            kafka.bootstrapServers()));
                    produce.addAll(paths);
                    Run produced = python(produce, Duration.ofMinutes(2));
                    assertThat(produced.exit()).as(produced.output()).isZero();
                    Run consumed = python(List.of("consumer.py", "--bootstrap-servers", kafka.bootstrapServers(),
                            "--expect", "6", "--timeout", "180"), Duration.ofMinutes(4));
                    assertThat(consumed.exit()).as(consumed.output()).isZero();

                    ObjectMapper mapper = new ObjectMapper();
                    Map<String, JsonNode> byId = new HashMap<>();
                    for (String line : consumed.output().lines().filter(l -> l.startsWith("{")).toList()) {
                        JsonNode node = mapper.readTree(line);
                        byId.put(node.get("id").asText(), node);
                    }
                    assertThat(byId).hasSize(6);
                    assertThat(byId.get("python-broken.jpg").get("topic").asText()).isEqualTo("failures");
                    assertThat(byId.get("python-broken.jpg").get("reason").asText()).isEqualTo("UNSUPPORTED_FORMAT");
                    // What Python read is what the model says about the same bytes.
                    for (int i = 0; i < 5; i++) {
                        String id = "python-" + i + ".png";
                        BatchOutcome direct = engine.label(List.of(images.get(id)));
                        var top = ((ImageOutcome.Labeled) direct.outcomes().get(0)).top().get(0);
                        assertThat(byId.get(id).get("topic").asText()).isEqualTo("labels");
                        assertThat(byId.get(id).get("classIndex").asInt()).as(id).isEqualTo(top.index());
                        assertThat(byId.get(id).get("label").asText()).isEqualTo(top.label());
                    }
                } finally {
                    pipeline.close();
                }
            }
        }
    }

    /**
     * With {@code schema.registry.url} set on both sides: Python registers ImageEvent under {@code images-value}
     * and writes Confluent-framed events, labelstream reads them by that writer schema and writes Confluent-framed
     * labels and failures, and Python reads those back by the writer schemas it fetches from the registry.
     */
    @Test
    void underASchemaRegistryItsConfluentFramedEventsAreLabeledAndItReadsTheLabelsBack() throws Exception {
        Map<String, byte[]> images = new LinkedHashMap<>();
        for (int i = 0; i < 4; i++) {
            images.put("registry-" + i + ".png", SyntheticImages.png(SyntheticImages.image(96, 64, 10 + i)));
        }
        images.put("registry-broken.jpg", "not an image".getBytes(StandardCharsets.UTF_8));
        List<String> paths = new ArrayList<>();
        for (var e : images.entrySet()) {
            paths.add(Files.write(dir.resolve(e.getKey()), e.getValue()).toString());
        }
        try (SchemaRegistryServer registry = SchemaRegistryServer.start();
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            Map<String, String> s = new HashMap<>();
            s.put("bootstrap.servers", kafka.bootstrapServers());
            s.put("application.id", "python-client-registry");
            s.put("model.path", TestModels.resnet18().toString());
            s.put("state.dir", dir.resolve("state").toString());
            s.put("schema.registry.url", registry.url());
            LabelstreamConfig config = LabelstreamConfig.of(s);
            String input = "images";
            String labelsTopic = "image-labels";
            String failuresTopic = "image-failures";
            try (LabelingEngine engine = EngineFactory.create(config)) {
                Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
                try {
                    assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).isTrue();
                    List<String> produce = new ArrayList<>(List.of("producer.py", "--bootstrap-servers",
                            kafka.bootstrapServers(), "--topic", input, "--schema-registry", registry.url()));
                    produce.addAll(paths);
                    Run produced = python(produce, Duration.ofMinutes(2));
                    assertThat(produced.exit()).as(produced.output()).isZero();
                    Run consumed = python(List.of("consumer.py", "--bootstrap-servers", kafka.bootstrapServers(),
                            "--labels-topic", labelsTopic, "--failures-topic", failuresTopic,
                            "--schema-registry", registry.url(), "--expect", String.valueOf(images.size()),
                            "--timeout", "180"), Duration.ofMinutes(4));
                    assertThat(consumed.exit()).as(consumed.output()).isZero();

                    ObjectMapper mapper = new ObjectMapper();
                    Map<String, List<JsonNode>> printed = new HashMap<>();
                    for (String line : consumed.output().lines().filter(l -> l.startsWith("{")).toList()) {
                        JsonNode node = mapper.readTree(line);
                        printed.computeIfAbsent(node.get("id").asText(), k -> new ArrayList<>()).add(node);
                    }
                    assertThat(printed.keySet()).as(consumed.output()).isEqualTo(images.keySet());
                    printed.forEach((id, lines) -> assertThat(lines).as("what Python read for %s", id).hasSize(1));
                    JsonNode broken = printed.get("registry-broken.jpg").get(0);
                    assertThat(broken.get("topic").asText()).isEqualTo("failures");
                    assertThat(broken.get("reason").asText()).isEqualTo("UNSUPPORTED_FORMAT");
                    for (int i = 0; i < 4; i++) {
                        String id = "registry-" + i + ".png";
                        BatchOutcome direct = engine.label(List.of(images.get(id)));
                        var top = ((ImageOutcome.Labeled) direct.outcomes().get(0)).top().get(0);
                        JsonNode read = printed.get(id).get(0);
                        assertThat(read.get("topic").asText()).as(id).isEqualTo("labels");
                        assertThat(read.get("classIndex").asInt()).as(id).isEqualTo(top.index());
                        assertThat(read.get("label").asText()).as(id).isEqualTo(top.label());
                    }

                    // Every record on the topics, as Java sees it: framed under its subject's registered id, and
                    // each image labeled (or failed) exactly once.
                    int eventId = latestId(registry, RegistrySerde.subject(input));
                    int labelsId = latestId(registry, RegistrySerde.subject(labelsTopic));
                    int failuresId = latestId(registry, RegistrySerde.subject(failuresTopic));
                    List<ConsumerRecord<byte[], byte[]>> events = readAll(kafka.bootstrapServers(), input);
                    assertThat(events).hasSize(images.size());
                    for (var r : events) {
                        assertFramed(r, eventId);
                    }
                    Map<String, Integer> labeled = new HashMap<>();
                    Map<String, Integer> failed = new HashMap<>();
                    for (var r : readAll(kafka.bootstrapServers(), labelsTopic, failuresTopic)) {
                        boolean isLabels = r.topic().equals(labelsTopic);
                        assertFramed(r, isLabels ? labelsId : failuresId);
                        GenericRecord record = body(r.value(), isLabels ? ImageLabels.getClassSchema()
                                : ImageFailure.getClassSchema());
                        (isLabels ? labeled : failed).merge(String.valueOf(record.get("id")), 1, Integer::sum);
                    }
                    Map<String, Integer> once = new HashMap<>();
                    images.keySet().stream().filter(id -> id.endsWith(".png")).forEach(id -> once.put(id, 1));
                    assertThat(labeled).isEqualTo(once);
                    assertThat(failed).isEqualTo(Map.of("registry-broken.jpg", 1));
                } finally {
                    pipeline.close();
                }
            }
        }
    }

    /** The id the registry holds for the latest version of {@code subject}. */
    private static int latestId(SchemaRegistryServer registry, String subject) throws Exception {
        HttpResponse<String> answer = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        URI.create(registry.url() + "/subjects/" + subject + "/versions/latest"))
                .header("Accept", SchemaRegistryServer.CONTENT_TYPE).timeout(Duration.ofSeconds(30)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(answer.statusCode()).as("GET latest of %s: %s", subject, answer.body()).isEqualTo(200);
        return new ObjectMapper().readTree(answer.body()).get("id").asInt();
    }

    private static void assertFramed(ConsumerRecord<byte[], byte[]> r, int schemaId) {
        String where = r.topic() + "-" + r.partition() + "@" + r.offset();
        assertThat(r.value()).as(where).hasSizeGreaterThan(ConfluentFraming.HEADER_BYTES);
        assertThat(r.value()[0]).as("%s starts with Confluent's magic byte", where).isEqualTo((byte) 0);
        assertThat(ConfluentFraming.schemaId(r.value())).as("%s's schema id", where).isEqualTo(schemaId);
    }

    /** A framed record's Avro body, read by {@code schema} (the writer's: the id was checked against it). */
    private static GenericRecord body(byte[] framed, org.apache.avro.Schema schema) throws IOException {
        return new GenericDatumReader<GenericRecord>(schema).read(null, DecoderFactory.get().binaryDecoder(framed,
                ConfluentFraming.HEADER_BYTES, framed.length - ConfluentFraming.HEADER_BYTES, null));
    }

    /** Every committed record now on {@code topics}, raw, read to the end offsets taken at the start. */
    private static List<ConsumerRecord<byte[], byte[]>> readAll(String bootstrap, String... topics) {
        return new TopicTraffic(bootstrap).readAll(topics);
    }
}
