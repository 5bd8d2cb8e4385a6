package io.labelstream.stream;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ConfluentFraming;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageLabelRow;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.Topics;
import io.labelstream.testing.ConnectWorker;
import io.labelstream.testing.PipelineSettings;
import io.labelstream.testing.PostgresServer;
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
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The path docs/connect.md describes, end to end: PostgreSQL, the schema registry, a broker, labelstream with its
 * flat outputs, and a Kafka Connect worker started from deploy/connect's property files (only hosts, ports and paths
 * replaced). Labeled images become one row each with the labels' top-1 and their top-k rows, a failure a row without
 * its bytes; replaying the inputs leaves the row counts as they were; a later schema version with a new optional
 * field adds a column, and labelstream's own records keep landing after it; values the converter cannot read go to
 * the dead-letter topic with Connect's error headers while the sink carries on. Needs Debian's postgresql package:
 * skipped without it, required under CI (.ci/run installs it).
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ConnectPostgresIT {

    private static final Duration WAIT = Duration.ofMinutes(2);
    private static final Path DEPLOY = Path.of("deploy/connect");
    // The topic names deploy/connect's connectors read, so the connector files run unchanged.
    private static final String ROWS = "image-label-rows";
    private static final String RANKS = "image-label-ranks";
    private static final String DEAD_LETTERS = "labelstream-connect-dlq";

    private static PostgresServer postgres;
    private static SchemaRegistryServer registry;
    private static EmbeddedKafka kafka;

    @TempDir
    Path dir;

    @BeforeAll
    static void start() throws Exception {
        Optional<Path> bin = PostgresServer.binaries();
        if ("true".equals(System.getenv("CI"))) {
            assertThat(bin).as("PostgreSQL under CI (.ci/run installs Debian's postgresql)").isPresent();
        }
        assumeTrue(bin.isPresent(), "ConnectPostgresIT skipped: no PostgreSQL under /usr/lib/postgresql "
                + "(apt-get install postgresql)");
        postgres = PostgresServer.start(bin.get());
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
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void labelsBecomeRowsOnceEachANewOptionalFieldBecomesAColumnAndUnreadableValuesBecomeDeadLetters() throws Exception {
        Map<String, String> s = PipelineSettings.of(kafka.bootstrapServers(), "connect-it", TestModels.resnet18(),
                dir.resolve("state"));
        s.put("input.topics", "images");
        s.put("labels.topic", "image-labels");
        s.put("failures.topic", "image-failures");
        s.put("labels.flat.topic", ROWS);
        s.put("labels.ranks.topic", RANKS);
        s.put("topics.partitions", "2");
        s.put("schema.registry.url", registry.url());
        Path images = java.nio.file.Files.createDirectories(dir.resolve("images"));
        s.put("fetch.file.roots", images.toString());
        LabelstreamConfig config = LabelstreamConfig.of(s);
        TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());

        try (LabelingEngine engine = EngineFactory.create(config);
             Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
             ConnectWorker worker = ConnectWorker.start(dir, DEPLOY.resolve("worker.properties"), Map.of(
                             "bootstrap.servers", kafka.bootstrapServers(),
                             "value.converter.apicurio.registry.url",
                             "http://127.0.0.1:" + registry.port() + "/apis/registry/v2"),
                     List.of(DEPLOY.resolve("jdbc-labels.properties"), DEPLOY.resolve("jdbc-label-ranks.properties"),
                             DEPLOY.resolve("jdbc-failures.properties")),
                     Map.of("connection.url", postgres.jdbcUrl()));
             Connection sql = postgres.connect()) {
            assertThat(pipeline.awaitRunning(WAIT)).isTrue();
            List<String> ids = traffic.publishImages("images", "photo", 4, 96, 64);
            traffic.publishRaw("images", "broken", TopicTraffic.event("broken",
                    "not an image".getBytes(StandardCharsets.UTF_8)));
            // One image by reference: its row carries the URI a catalogue joins on.
            Path referenced = java.nio.file.Files.write(images.resolve("by-reference.png"),
                    io.labelstream.image.SyntheticImages.png(io.labelstream.image.SyntheticImages.image(96, 64, 7)));
            String uri = referenced.toUri().toString();
            traffic.publishRaw("images", "by-reference", AvroSerdes.imageEvent().encode(ImageEvent.newBuilder()
                    .setId("by-reference").setEventTime(java.time.Instant.now())
                    .setImage(new ImageReference(uri, "image/png", null, null)).build()));
            List<String> labeledIds = new ArrayList<>(ids);
            labeledIds.add("by-reference");

            await("the three connectors and their tasks run").atMost(WAIT).pollInterval(Duration.ofMillis(500))
                    .until(worker::connectors, c -> c.size() == 3
                            && c.values().stream().allMatch(v -> v.equals("RUNNING [RUNNING]")));
            await("a row per labeled image, its ranks, and the failure").atMost(WAIT)
                    .pollInterval(Duration.ofMillis(500)).failFast(() -> failFast(pipeline, worker))
                    .until(() -> count(sql, "image_labels") == 5 && count(sql, "image_failures") == 1
                            && count(sql, "image_label_ranks") == 5 * 5);
            // What the sink made of the schemas, in the test's output (docs/connect.md shows it).
            for (String table : List.of("image_labels", "image_label_ranks", "image_failures")) {
                System.out.println(table + ": " + columnTypes(sql, table));
            }

            // The rows say what the labels topic says.
            Map<String, ImageLabels> labels = labelsById(config);
            assertThat(labels).containsOnlyKeys(labeledIds);
            Map<String, Long> firstOffsets = new HashMap<>();
            try (ResultSet rows = sql.createStatement().executeQuery("SELECT id, model_name, model_sha256, label, "
                    + "class_index, score, ranks, flagged, flags, source_topic, source_partition, source_offset, "
                    + "image_uri, event_time, labeled_at, from_cache FROM image_labels")) {
                while (rows.next()) {
                    ImageLabels expected = labels.get(rows.getString("id"));
                    var top = expected.getLabels().get(0);
                    assertThat(rows.getString("model_name")).isEqualTo(expected.getModel().getName());
                    assertThat(rows.getString("model_sha256")).isEqualTo(expected.getModel().getSha256());
                    assertThat(rows.getString("label")).isEqualTo(top.getLabel());
                    assertThat(rows.getInt("class_index")).isEqualTo(top.getClassIndex());
                    assertThat(rows.getFloat("score")).isEqualTo(top.getScore());
                    assertThat(rows.getInt("ranks")).isEqualTo(5);
                    assertThat(rows.getBoolean("flagged")).isFalse();
                    assertThat(rows.getString("flags")).isEmpty();
                    assertThat(rows.getString("source_topic")).isEqualTo("images");
                    assertThat(rows.getInt("source_partition")).isEqualTo(expected.getSource().getPartition());
                    assertThat(rows.getLong("source_offset")).isEqualTo(expected.getSource().getOffset());
                    assertThat(rows.getString("image_uri"))
                            .isEqualTo(rows.getString("id").equals("by-reference") ? uri : null);
                    assertThat(rows.getTimestamp("event_time")).isNotNull();
                    assertThat(rows.getTimestamp("labeled_at").toInstant().toEpochMilli())
                            .isEqualTo(expected.getLabeledAt().toEpochMilli());
                    assertThat(rows.getBoolean("from_cache")).isFalse();
                    firstOffsets.put(rows.getString("id"), rows.getLong("source_offset"));
                }
            }
            for (String id : labeledIds) {
                List<String> ranked = new ArrayList<>();
                try (ResultSet r = sql.createStatement().executeQuery("SELECT rank, label, score FROM "
                        + "image_label_ranks WHERE id = '" + id + "' ORDER BY rank")) {
                    while (r.next()) {
                        ranked.add(r.getInt("rank") + ":" + r.getString("label") + ":" + r.getFloat("score"));
                    }
                }
                List<String> expected = new ArrayList<>();
                for (int i = 0; i < labels.get(id).getLabels().size(); i++) {
                    var l = labels.get(id).getLabels().get(i);
                    expected.add((i + 1) + ":" + l.getLabel() + ":" + l.getScore());
                }
                assertThat(ranked).as(id).isEqualTo(expected);
            }
            try (ResultSet f = sql.createStatement().executeQuery("SELECT id, reason, message, source_topic, "
                    + "failed_at FROM image_failures")) {
                assertThat(f.next()).isTrue();
                assertThat(f.getString("id")).isEqualTo("broken");
                assertThat(f.getString("reason")).isEqualTo("UNSUPPORTED_FORMAT");
                assertThat(f.getString("message")).isNotBlank();
                assertThat(f.getString("source_topic")).isEqualTo("images");
                assertThat(f.getTimestamp("failed_at")).isNotNull();
            }
            assertThat(columns(sql, "image_failures")).as("the bytes stay in the topic")
                    .contains("reason", "message", "source_partition", "source_offset")
                    .doesNotContain("originalvalue", "originalkey", "headers", "original_value");

            // Replaying the same inputs updates the rows: each now points at its replayed input, none is added.
            // The ranks come through a connector of their own: their newer labeled_at says they have landed too.
            String ranksBefore = single(sql, "SELECT extract(epoch FROM max(labeled_at)) FROM image_label_ranks");
            traffic.publishImages("images", "photo", 4, 96, 64);
            await("every row updated from its replayed input").atMost(WAIT).pollInterval(Duration.ofMillis(500))
                    .failFast(() -> failFast(pipeline, worker))
                    .until(() -> offsets(sql).entrySet().stream()
                            .filter(e -> ids.contains(e.getKey()))
                            .allMatch(e -> e.getValue() > firstOffsets.get(e.getKey())));
            await("every rank of the replayed images updated").atMost(WAIT).pollInterval(Duration.ofMillis(500))
                    .failFast(() -> failFast(pipeline, worker))
                    .until(() -> Long.parseLong(single(sql, "SELECT count(*) FROM image_label_ranks WHERE "
                            + "extract(epoch FROM labeled_at) > " + ranksBefore)) == 4 * 5);
            assertThat(count(sql, "image_labels")).isEqualTo(5);
            assertThat(count(sql, "image_label_ranks")).isEqualTo(5 * 5);

            // A later version of the row schema with a new optional field: the sink adds the column.
            String subject = ROWS + "-value";
            Schema evolved = new Schema.Parser().parse(ImageLabelRow.getClassSchema().toString().replaceFirst(
                    "\\]\\}$", ",{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null}]}"));
            int evolvedId = registry.register(subject, evolved.toString());
            traffic.publishRaw(ROWS, "evolved", ConfluentFraming.frame(evolvedId, binary(evolved,
                    new GenericRecordBuilder(evolved).set("id", "evolved").set("model_name", "resnet18")
                            .set("model_version", "2").set("model_sha256", "0".repeat(64)).set("label", "tabby")
                            .set("class_index", 281).set("score", 0.9f).set("ranks", 0).set("flagged", false)
                            .set("flags", "").set("source_topic", "images").set("source_partition", 0)
                            .set("source_offset", 0L).set("labeled_at", System.currentTimeMillis())
                            .set("from_cache", false).set("note", "added later").build())));
            await("the new field as a column").atMost(WAIT).pollInterval(Duration.ofMillis(500))
                    .failFast(() -> failFast(pipeline, worker))
                    .until(() -> columns(sql, "image_labels").contains("note")
                            && "added later".equals(single(sql, "SELECT note FROM image_labels WHERE id = 'evolved'")));
            // ...and labelstream's records, in the version before, still land (note NULL).
            List<String> later = traffic.publishImages("images", "later", 1, 96, 64);
            await("a row from labelstream after the evolution").atMost(WAIT).pollInterval(Duration.ofMillis(500))
                    .failFast(() -> failFast(pipeline, worker))
                    .until(() -> count(sql, "image_labels") == 7);
            assertThat(single(sql, "SELECT coalesce(note, 'null') FROM image_labels WHERE id = '" + later.get(0) + "'"))
                    .isEqualTo("null");

            unreadableRowsGoToTheDeadLetterTopicAndGoodOnesKeepLanding(traffic, pipeline, worker, sql);
            Map<String, String> states = await("the three connectors' states").atMost(WAIT)
                    .until(worker::connectors, c -> c.size() == 3);
            assertThat(states).allSatisfy((name, state) -> assertThat(state).as(name)
                    .isEqualTo("RUNNING [RUNNING]"));
        }
    }

    /**
     * Two values the converter cannot read, on the rows topic: a row in single-object encoding (labelstream without
     * a registry) and the registry's framing around bytes that are not Avro. Each goes to the dead-letter topic as it
     * was, with Connect's error headers, and a labelstream row published after them under the same key (so in the
     * same partition, behind them) still becomes a row.
     */
    private static void unreadableRowsGoToTheDeadLetterTopicAndGoodOnesKeepLanding(TopicTraffic traffic,
            Pipeline pipeline, ConnectWorker worker, Connection sql) throws Exception {
        String after = "after-dead-letters-0000"; // the id, and key, publishImages gives its one image below
        java.nio.ByteBuffer encoded = ImageLabelRow.newBuilder().setId("single-object").setModelName("resnet18")
                .setModelVersion("1").setModelSha256("0".repeat(64)).setLabel("tabby").setClassIndex(281)
                .setScore(0.9f).setRanks(0).setFlagged(false).setFlags("").setSourceTopic("images")
                .setSourcePartition(0).setSourceOffset(0L).setImageUri(null).setEventTime(null)
                .setLabeledAt(java.time.Instant.now()).setFromCache(false).build().toByteBuffer();
        byte[] singleObject = new byte[encoded.remaining()];
        encoded.get(singleObject);
        int rowSchemaId = registry.register(ROWS + "-value", ImageLabelRow.getClassSchema().toString());
        byte[] notAvro = ConfluentFraming.frame(rowSchemaId, "not avro".getBytes(StandardCharsets.UTF_8));
        traffic.publishRaw(ROWS, after, singleObject);
        traffic.publishRaw(ROWS, after, notAvro);
        assertThat(traffic.publishImages("images", "after-dead-letters", 1, 96, 64)).containsExactly(after);

        List<ConsumerRecord<byte[], byte[]>> dead = await("both unreadable values on the dead-letter topic")
                .atMost(WAIT).pollInterval(Duration.ofMillis(500)).failFast(() -> failFast(pipeline, worker))
                .until(() -> traffic.readAll(DEAD_LETTERS).stream().filter(r -> after.equals(key(r))).toList(),
                        r -> r.size() == 2);
        assertThat(dead).extracting(ConsumerRecord::value).containsExactly(singleObject, notAvro);
        for (ConsumerRecord<byte[], byte[]> r : dead) {
            assertThat(header(r, "topic")).isEqualTo(ROWS);
            assertThat(header(r, "connector.name")).isEqualTo("labelstream-image-labels");
            assertThat(header(r, "stage")).isEqualTo("VALUE_CONVERTER");
            assertThat(header(r, "class.name")).isEqualTo("io.apicurio.registry.utils.converter.AvroConverter");
            assertThat(header(r, "exception.class.name")).isNotBlank();
            assertThat(header(r, "offset")).isNotBlank();
        }
        await("a row published after them").atMost(WAIT).pollInterval(Duration.ofMillis(500))
                .failFast(() -> failFast(pipeline, worker))
                .until(() -> single(sql, "SELECT label FROM image_labels WHERE id = '" + after + "'") != null);
        assertThat(count(sql, "image_labels")).as("no row from an unreadable value").isEqualTo(8);
        // Behind them indeed: labelstream's record of that key is in their partition, after both.
        List<ConsumerRecord<byte[], byte[]>> sameKey = traffic.readAll(ROWS).stream()
                .filter(r -> after.equals(key(r))).toList();
        assertThat(sameKey).hasSize(3).extracting(ConsumerRecord::partition).containsOnly(sameKey.get(0).partition());
        assertThat(sameKey).extracting(ConsumerRecord::value).startsWith(singleObject, notAvro);
    }

    private static String key(ConsumerRecord<byte[], byte[]> record) {
        return record.key() == null ? null : new String(record.key(), StandardCharsets.UTF_8);
    }

    /** One of the error headers Connect puts on a dead letter ({@code __connect.errors.NAME}), or null. */
    private static String header(ConsumerRecord<byte[], byte[]> record, String name) {
        var header = record.headers().lastHeader("__connect.errors." + name);
        return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
    }

    private static void failFast(Pipeline pipeline, ConnectWorker worker) {
        assertThat(pipeline.fatalError()).isNull();
        worker.connectors().forEach((name, state) -> assertThat(state).as(name + "\n" + worker.logTail())
                .doesNotContain("FAILED"));
    }

    /** The labels topic read back with labelstream's own registry serde. */
    private Map<String, ImageLabels> labelsById(LabelstreamConfig config) {
        Map<String, ImageLabels> byId = new HashMap<>();
        try (Topics topics = Topics.forConfig(config)) {
            for (ConsumerRecord<byte[], byte[]> r : new TopicTraffic(kafka.bootstrapServers())
                    .readAll("image-labels")) {
                ImageLabels value = topics.labels().value(r);
                byId.put(value.getId(), value);
            }
        }
        return byId;
    }

    private static byte[] binary(Schema schema, GenericRecord record) throws java.io.IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        BinaryEncoder encoder = EncoderFactory.get().binaryEncoder(out, null);
        new GenericDatumWriter<GenericRecord>(schema).write(record, encoder);
        encoder.flush();
        return out.toByteArray();
    }

    /** Rows in {@code table}; 0 while the sink has not created it. */
    private static long count(Connection sql, String table) throws SQLException {
        if (!exists(sql, table)) {
            return 0;
        }
        return Long.parseLong(single(sql, "SELECT count(*) FROM " + table));
    }

    private static boolean exists(Connection sql, String table) throws SQLException {
        return single(sql, "SELECT to_regclass('public." + table + "')") != null;
    }

    private static String single(Connection sql, String query) throws SQLException {
        try (ResultSet r = sql.createStatement().executeQuery(query)) {
            return r.next() ? r.getString(1) : null;
        }
    }

    private static List<String> columns(Connection sql, String table) throws SQLException {
        List<String> names = new ArrayList<>();
        try (ResultSet r = sql.createStatement().executeQuery("SELECT column_name FROM information_schema.columns "
                + "WHERE table_name = '" + table + "'")) {
            while (r.next()) {
                names.add(r.getString(1));
            }
        }
        return names;
    }

    private static Map<String, String> columnTypes(Connection sql, String table) throws SQLException {
        Map<String, String> types = new java.util.LinkedHashMap<>();
        try (ResultSet r = sql.createStatement().executeQuery("SELECT column_name, data_type, is_nullable FROM "
                + "information_schema.columns WHERE table_name = '" + table + "' ORDER BY ordinal_position")) {
            while (r.next()) {
                types.put(r.getString(1), r.getString(2) + ("NO".equals(r.getString(3)) ? " not null" : ""));
            }
        }
        return types;
    }

    private static Map<String, Long> offsets(Connection sql) throws SQLException {
        Map<String, Long> offsets = new HashMap<>();
        try (ResultSet r = sql.createStatement().executeQuery("SELECT id, source_offset FROM image_labels")) {
            while (r.next()) {
                offsets.put(r.getString(1), r.getLong(2));
            }
        }
        return offsets;
    }
}
