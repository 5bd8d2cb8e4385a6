package io.labelstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageEvents;
import io.labelstream.testing.PipelineSettings;
import io.labelstream.testing.SchemaRegistryServer;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericDatumWriter;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.GenericRecordBuilder;
import org.apache.avro.io.BinaryEncoder;
import org.apache.avro.io.EncoderFactory;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * labelstream under a real schema registry (Apicurio, Confluent API) and a real broker: Confluent-framed inputs under
 * labelstream's schema and under a producer's own evolutions are labeled; outputs are Confluent-framed and read back
 * here by a reader that knows nothing but the registry; records whose writer schema the registry cannot give wait,
 * in order, while it is frozen or stopped, and are labeled exactly once when it is back.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class SchemaRegistryEndToEndIT {

    private static final Duration WAIT = Duration.ofMinutes(3);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static SchemaRegistryServer registry;
    private static EmbeddedKafka kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        registry = SchemaRegistryServer.start();
        kafka = EmbeddedKafka.start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (kafka != null) {
            kafka.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    private LabelstreamConfig config(String app, Map<String, String> extra) {
        Map<String, String> s = PipelineSettings.of(kafka.bootstrapServers(), app, TestModels.resnet18(),
                dir.resolve("state-" + app));
        s.put("flagged.topic", app + "-flagged");
        s.put("topics.partitions", "2");
        s.put("schema.registry.url", registry.url());
        s.put("schema.registry.retry.backoff.max.ms", "1000");
        s.put("schema.registry.timeout.ms", "2000");
        s.putAll(extra);
        return LabelstreamConfig.of(s);
    }

    /** labelstream's ImageEvent with one more field, as a producer's own evolution would add it. */
    private static Schema withExtraField(String name) {
        String json = ImageEvent.getClassSchema().toString();
        return new Schema.Parser().parse(json.replaceFirst("\"fields\":\\[", "\"fields\":[{\"name\":\"" + name
                + "\",\"type\":\"string\",\"default\":\"none\"},"));
    }

    /** labelstream's ImageEvent without its optional {@code source} field. */
    private static Schema withoutSource() {
        return edited(json -> {
            var fields = (com.fasterxml.jackson.databind.node.ArrayNode) json.get("fields");
            for (int i = 0; i < fields.size(); i++) {
                if ("source".equals(fields.get(i).get("name").asText())) {
                    fields.remove(i);
                    return;
                }
            }
            throw new AssertionError("ImageEvent has no source field");
        });
    }

    /** labelstream's ImageEvent schema as JSON, changed by {@code edit}. */
    private static Schema edited(java.util.function.Consumer<JsonNode> edit) {
        try {
            JsonNode json = JSON.readTree(ImageEvent.getClassSchema().toString());
            edit.accept(json);
            return new Schema.Parser().parse(json.toString());
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** An ImageEvent written Confluent-framed by a producer with {@code writer}, as a Confluent serializer would. */
    private static byte[] framed(int schemaId, Schema writer, Object id, byte[] image, Map<String, Object> extra)
            throws Exception {
        GenericRecord inline = new GenericRecordBuilder(writer.getField("image").schema().getTypes().get(0))
                .set("data", ByteBuffer.wrap(image)).build();
        GenericRecordBuilder event = new GenericRecordBuilder(writer).set("id", id).set("image", inline)
                .set("eventTime", System.currentTimeMillis());
        if (writer.getField("source") != null) {
            event.set("source", "evolved-producer");
        }
        extra.forEach(event::set);
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(0);
        out.write(ByteBuffer.allocate(4).putInt(schemaId).array());
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(writer).write(event.build(), encoder);
        encoder.flush();
        return out.toByteArray();
    }

    private static JsonNode get(String path) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(URI.create(registry.url() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(path + ": " + response.body()).isEqualTo(200);
        return JSON.readTree(response.body());
    }

    /** What a read_committed reader saw on the labels and failures topics, read by the registry alone. */
    private record Seen(Map<String, Integer> labeled, List<GenericRecord> failures, List<Integer> labelIds) {
    }

    /**
     * Reads until every record is in and markers published behind them have come out (see
     * {@link io.labelstream.testing.CommittedRecords#awaitAll}), so that a duplicate is counted too.
     */
    private static Seen awaitOutputs(String app, int expected, Pipeline pipeline) throws Exception {
        Map<String, Integer> labeled = new HashMap<>();
        List<GenericRecord> failures = new ArrayList<>();
        List<Integer> labelIds = new ArrayList<>();
        try (var outputs = new TopicTraffic(kafka.bootstrapServers()).committed(app + "-labels", app + "-failures")) {
            outputs.awaitAll(app + "-in", expected, WAIT, pipeline::fatalError);
            for (ConsumerRecord<byte[], byte[]> r : outputs.records()) {
                GenericRecord value = registry.read(r.value());
                String id = String.valueOf(value.get("id"));
                if (r.topic().endsWith("-labels")) {
                    labeled.merge(id, 1, Integer::sum);
                    labelIds.add(ByteBuffer.wrap(r.value(), 1, 4).getInt());
                } else {
                    failures.add(value);
                }
            }
        }
        return new Seen(labeled, failures, labelIds);
    }

    @Test
    void confluentFramedEventsOfEveryEvolutionAreLabeledAndTheOutputsReadByTheRegistryAlone() throws Exception {
        String app = "registry-mixed";
        String subject = app + "-in-value";
        int ours = registry.register(subject, ImageEvent.getClassSchema().toString());
        Schema extra = withExtraField("camera");
        int withExtra = registry.register(subject, extra.toString());
        Schema lacking = withoutSource();
        int withoutSource = registry.register(subject, lacking.toString());
        // A writer schema no producer of ImageEvents could mean: its id is an int. Registered elsewhere, as a
        // registry would refuse it under the subject.
        Schema wrongId = edited(json -> ((com.fasterxml.jackson.databind.node.ObjectNode) json.get("fields").get(0))
                .put("type", "int"));
        int unresolvable = registry.register(app + "-other-value", wrongId.toString());
        assertThat(List.of(ours, withExtra, withoutSource, unresolvable)).doesNotHaveDuplicates();

        LinkedHashMap<String, byte[]> events = new LinkedHashMap<>();
        for (int i = 0; i < 3; i++) {
            events.put("ours-" + i, framed(ours, ImageEvent.getClassSchema(), "ours-" + i,
                    SyntheticImages.png(SyntheticImages.image(64, 48, i)), Map.of()));
            events.put("extra-" + i, framed(withExtra, extra, "extra-" + i,
                    SyntheticImages.png(SyntheticImages.image(64, 48, 10 + i)), Map.of("camera", "cam-" + i)));
            events.put("lacking-" + i, framed(withoutSource, lacking, "lacking-" + i,
                    SyntheticImages.png(SyntheticImages.image(64, 48, 20 + i)), Map.of()));
            events.put("single-" + i, AvroSerdes.imageEvent().encode(ImageEvents.inline("single-" + i,
                    SyntheticImages.png(SyntheticImages.image(64, 48, 30 + i)), "image/png").build()));
        }
        byte[] unknownId = framed(987_654, ImageEvent.getClassSchema(), "unknown-id",
                SyntheticImages.png(SyntheticImages.image(64, 48, 40)), Map.of());
        events.put("unknown-id", unknownId);
        byte[] unresolvableBytes = framed(unresolvable, wrongId, 41,
                SyntheticImages.png(SyntheticImages.image(64, 48, 41)), Map.of());
        events.put("unresolvable", unresolvableBytes);

        LabelstreamConfig config = config(app, Map.of());
        try (LabelingEngine engine = EngineFactory.create(config);
             Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine)) {
            assertThat(pipeline.awaitRunning(WAIT)).isTrue();
            new TopicTraffic(kafka.bootstrapServers()).publishAll(app + "-in", events);
            Seen seen = awaitOutputs(app, events.size(), pipeline);
            List<String> labeledIds = new ArrayList<>(events.keySet());
            labeledIds.removeAll(List.of("unknown-id", "unresolvable"));
            assertThat(seen.labeled()).containsOnlyKeys(labeledIds).allSatisfy((id, n) -> assertThat(n).isOne());
            int labelsId = get("/subjects/" + app + "-labels-value/versions/latest").get("id").asInt();
            assertThat(seen.labelIds()).containsOnly(labelsId);

            // The failures' ids are not readable; they are told apart by their bytes.
            assertThat(seen.failures()).hasSize(2);
            Map<String, GenericRecord> byReason = new HashMap<>();
            seen.failures().forEach(f -> byReason.put(f.get("reason").toString(), f));
            assertThat(byReason).containsOnlyKeys("UNKNOWN_SCHEMA", "INCOMPATIBLE_SCHEMA");
            GenericRecord unknown = byReason.get("UNKNOWN_SCHEMA");
            assertThat(bytes(unknown.get("originalValue"))).isEqualTo(unknownId);
            assertThat(unknown.get("message").toString()).contains("987654").contains("does not know");
            GenericRecord incompatible = byReason.get("INCOMPATIBLE_SCHEMA");
            assertThat(bytes(incompatible.get("originalValue"))).isEqualTo(unresolvableBytes);
            assertThat(incompatible.get("message").toString()).contains("id " + unresolvable)
                    .contains("cannot be resolved").contains("/fields/0/type");
            assertThat(pipeline.ready()).isTrue();
        }
    }

    private static byte[] bytes(Object avroBytes) {
        ByteBuffer buffer = ((ByteBuffer) avroBytes).duplicate();
        byte[] copy = new byte[buffer.remaining()];
        buffer.get(copy);
        return copy;
    }

    @Test
    void recordsWaitInOrderWhileTheRegistryIsFrozenOrStoppedAndAreLabeledOnceWhenItIsBack() throws Exception {
        String app = "registry-outage";
        String subject = app + "-in-value";
        registry.register(subject, ImageEvent.getClassSchema().toString());
        LabelstreamConfig config = config(app, Map.of("topics.partitions", "1"));
        PipelineMetrics metrics = PipelineMetrics.inMemory();
        try (LabelingEngine engine = EngineFactory.create(config);
             Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine, metrics)) {
            assertThat(pipeline.awaitRunning(WAIT)).isTrue();
            TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
            int total = 0;
            for (String outage : List.of("frozen", "stopped")) {
                // A schema labelstream has not seen: its records can only be read once the registry answers.
                Schema evolved = withExtraField("outage_" + outage);
                int id = registry.register(subject, evolved.toString());
                if (outage.equals("frozen")) {
                    registry.freeze();
                } else {
                    registry.stop();
                }
                LinkedHashMap<String, byte[]> events = new LinkedHashMap<>();
                for (int i = 0; i < 6; i++) {
                    events.put(outage + "-" + i, framed(id, evolved, outage + "-" + i,
                            SyntheticImages.png(SyntheticImages.image(64, 48, i)), Map.of()));
                }
                // Behind them in the same partition, a record that needs no registry waits its turn too.
                events.put(outage + "-single", AvroSerdes.imageEvent().encode(ImageEvents.inline(outage + "-single",
                        SyntheticImages.png(SyntheticImages.image(64, 48, 9)), "image/png").build()));
                traffic.publishAll(app + "-in", events);
                total += events.size();

                awaitFact(() -> !pipeline.ready() && pipeline.status().contains("waiting for the schema registry"),
                        () -> "not ready, saying why: " + pipeline.status());
                assertThat(metrics.registry().get("labelstream.schema.registry.waiting").gauge().value())
                        .isGreaterThanOrEqualTo(1);
                assertThat(pipeline.state()).isEqualTo(org.apache.kafka.streams.KafkaStreams.State.RUNNING);

                if (outage.equals("frozen")) {
                    registry.thaw();
                } else {
                    registry.restart();
                }
                Seen seen = awaitOutputs(app, total, pipeline);
                assertThat(seen.failures()).as("no record failed for the outage").isEmpty();
                assertThat(seen.labeled()).containsKeys(events.keySet().toArray(String[]::new))
                        .allSatisfy((key, n) -> assertThat(n).as(key).isOne());
                assertThat(seen.labeled()).hasSize(total);
                awaitFact(pipeline::ready, () -> "ready again: " + pipeline.status());
            }
            // In input order: each outage's own records first, the single-object one behind them.
            List<String> order = new ArrayList<>();
            try (var labels = traffic.committed(app + "-labels")) {
                for (ConsumerRecord<byte[], byte[]> r : labels.awaitAtLeast(total, WAIT, () -> null).records()) {
                    order.add(registry.read(r.value()).get("id").toString());
                }
            }
            assertThat(order).containsExactly("frozen-0", "frozen-1", "frozen-2", "frozen-3", "frozen-4",
                    "frozen-5", "frozen-single", "stopped-0", "stopped-1", "stopped-2", "stopped-3", "stopped-4",
                    "stopped-5", "stopped-single");
        } finally {
            registry.restart(); // running, whatever the test left it as
        }
    }

    /** Awaitility, with {@code what} (read when the fact last failed to hold) in its time-out's message. */
    private static void awaitFact(BooleanSupplier fact, java.util.function.Supplier<String> what) {
        await().atMost(WAIT).pollInterval(Duration.ofMillis(50))
                .untilAsserted(() -> assertThat(fact.getAsBoolean()).as(what.get()).isTrue());
    }

    @Test
    void startUpWaitsForARegistryThatDoesNotAnswerAndGoesOnWhenItDoes() throws Exception {
        String subject = "registry-start-up-labels-value";
        io.labelstream.schema.SchemaRegistry client = io.labelstream.schema.SchemaRegistry.from(config(
                "registry-start-up", Map.of()));
        registry.freeze();
        try {
            var registered = java.util.concurrent.CompletableFuture.supplyAsync(() -> client.idOf(subject,
                    io.labelstream.schema.ImageLabels.getClassSchema()));
            awaitFact(() -> client.waitingFor() != null, () -> "saying it waits");
            assertThat(client.waitingFor()).contains("waiting for the schema registry").contains(subject);
            assertThat(registered).isNotDone(); // it waited through at least one time-out, and did not give up
            registry.thaw();
            int id = registered.get(WAIT.toSeconds(), TimeUnit.SECONDS);
            assertThat(get("/subjects/" + subject + "/versions/latest").get("id").asInt()).isEqualTo(id);
            assertThat(client.waitingFor()).isNull();
        } finally {
            registry.thaw();
            client.close();
        }
    }

    @Test
    void withAutoRegisterOffASubjectThatLacksTheSchemaStopsStartUpNamingIt() throws Exception {
        String app = "registry-no-auto";
        LabelstreamConfig config = config(app, Map.of("schema.registry.auto.register", "false"));
        try (LabelingEngine engine = EngineFactory.create(config)) {
            assertThatThrownBy(() -> Pipeline.start(config, kafka.bootstrapServers(), engine))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("schema.registry.auto.register=false")
                    .hasMessageContaining("subject " + app + "-labels-value");
        }
    }

    @Test
    void aSubjectHoldingAnIncompatibleSchemaStopsStartUpWithTheRegistrysMessage() throws Exception {
        String app = "registry-incompatible";
        String subject = app + "-failures-value";
        registry.register(subject, "{\"type\":\"record\",\"name\":\"ImageFailure\",\"namespace\":"
                + "\"io.labelstream.schema\",\"fields\":[{\"name\":\"code\",\"type\":\"int\"}]}");
        registry.setCompatibility(subject, "FULL");
        LabelstreamConfig config = config(app, Map.of());
        try (LabelingEngine engine = EngineFactory.create(config)) {
            assertThatThrownBy(() -> Pipeline.start(config, kafka.bootstrapServers(), engine))
                    .isInstanceOf(ConfigException.class)
                    .hasMessageContaining("subject " + subject)
                    .hasMessageContaining("incompatible")
                    .hasMessageContaining("answered 409");
        }
    }

    @Test
    void produceTailAndReplaySpeakTheRegistryToo() throws Exception {
        String app = "registry-tools";
        java.nio.file.Path folder = java.nio.file.Files.createDirectories(dir.resolve("photos"));
        for (int i = 0; i < 6; i++) {
            java.nio.file.Files.write(folder.resolve("p" + i + ".jpg"), SyntheticImages.jpeg(96, 64, i));
        }
        java.nio.file.Files.write(folder.resolve("broken.jpg"), new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3});
        LabelstreamConfig config = config(app, Map.of());
        List<String> settings = List.of("--bootstrap-servers", kafka.bootstrapServers(), "-s",
                "schema.registry.url=" + registry.url(), "-s", "input.topics=" + app + "-in", "-s",
                "labels.topic=" + app + "-labels", "-s", "failures.topic=" + app + "-failures");
        try (LabelingEngine engine = EngineFactory.create(config);
             Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine)) {
            assertThat(pipeline.awaitRunning(WAIT)).isTrue();
            var produced = io.labelstream.testing.ConsoleCapture.run(() -> io.labelstream.cli.CliTestAccess.execute(
                    concat(List.of("produce"), settings, List.of(folder.toString()))));
            assertThat(produced.exitCode()).as(produced.err()).isZero();
            // What produce sent is Confluent-framed under the id the input subject holds.
            int eventsId = get("/subjects/" + app + "-in-value/versions/latest").get("id").asInt();
            try (var input = new TopicTraffic(kafka.bootstrapServers()).committed(app + "-in")) {
                List<byte[]> inputs = new ArrayList<>();
                input.awaitAtLeast(7, WAIT, () -> null).records().forEach(r -> inputs.add(r.value()));
                assertThat(inputs).hasSize(7).allSatisfy(v -> {
                    assertThat(v[0]).isZero();
                    assertThat(ByteBuffer.wrap(v, 1, 4).getInt()).isEqualTo(eventsId);
                });
            }
            var tail = io.labelstream.testing.ConsoleCapture.run(() -> io.labelstream.cli.CliTestAccess.execute(
                    concat(List.of("tail"), settings, List.of("--failures", "--from-beginning", "--json", "--max", "7",
                            "--idle-timeout", "PT120S"))));
            assertThat(tail.exitCode()).as(tail.err()).isZero();
            List<JsonNode> lines = new ArrayList<>();
            for (String line : tail.out().lines().toList()) {
                lines.add(JSON.readTree(line));
            }
            assertThat(lines).hasSize(7);
            assertThat(lines.stream().filter(n -> n.get("topic").asText().equals("labels")).count()).isEqualTo(6);
            assertThat(lines.stream().filter(n -> n.get("topic").asText().equals("failures")).count()).isOne();

            var replay = io.labelstream.testing.ConsoleCapture.run(() -> io.labelstream.cli.CliTestAccess.execute(
                    concat(List.of("replay"), settings)));
            assertThat(replay.exitCode()).as(replay.err()).isZero();
            assertThat(replay.out()).contains("Replayed 1 failure(s)");
            // Back on the input topic: the broken image's own bytes, as they first arrived (framed under the input
            // subject's id), once more.
            try (var input = new TopicTraffic(kafka.bootstrapServers()).committed(app + "-in")) {
                List<byte[]> inputs = new ArrayList<>();
                input.awaitAtLeast(8, WAIT, () -> null).records().forEach(r -> inputs.add(r.value()));
                assertThat(inputs).hasSize(8);
                Map<ByteBuffer, Integer> copies = new HashMap<>();
                inputs.forEach(v -> copies.merge(ByteBuffer.wrap(v), 1, Integer::sum));
                assertThat(copies).hasSize(7).containsValue(2);
                assertThat(inputs).allSatisfy(v -> assertThat(ByteBuffer.wrap(v, 1, 4).getInt()).isEqualTo(eventsId));
            }
        }
    }

    @SafeVarargs
    private static String[] concat(List<String>... parts) {
        return java.util.Arrays.stream(parts).flatMap(List::stream).toArray(String[]::new);
    }
}
