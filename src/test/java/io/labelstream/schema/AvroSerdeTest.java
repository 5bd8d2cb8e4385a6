package io.labelstream.schema;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AvroSerdeTest {

    private final Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    @Test
    void anImageReviewRoundTripsAndTheTopicsPageGivesItsFingerprint() throws Exception {
        AvroSerde<ImageReview> serde = AvroSerdes.imageReview();
        ImageReview review = ImageReview.newBuilder().setId("a-1").setDecision(ReviewDecision.RELABELED)
                .setLabel("cat").setReviewer("ana").setReviewedAt(now).setRule("pets").setRuleLabel("dog")
                .setModel(new ModelIdentity("m", "1", "ab")).setSource(new SourceCoordinates("images", 0, 7L))
                .build();
        assertThat(serde.decode(serde.encode(review))).isEqualTo(review);
        String fingerprint = String.format("%016x", SchemaNormalization.parsingFingerprint64(
                ImageReview.getClassSchema()));
        assertThat(java.nio.file.Files.readString(java.nio.file.Path.of("docs/topics-and-schemas.md")))
                .contains("| `ImageReview` | `" + fingerprint + "` |");
    }

    @Test
    void imageEventRoundTripsWithTheSingleObjectHeader() throws Exception {
        AvroSerde<ImageEvent> serde = AvroSerdes.imageEvent();
        ImageEvent event = ImageEvent.newBuilder().setId("a-1")
                .setImage(new InlineImage(ByteBuffer.wrap(new byte[] {1, 2, 3}), "image/jpeg"))
                .setSource("camera-7").setAttributes(Map.of("album", "x")).setEventTime(now).build();
        byte[] bytes = serde.encode(event);
        // Avro single-object encoding: C3 01, then the CRC-64-AVRO fingerprint of the writer schema (little endian).
        assertThat(bytes[0]).isEqualTo((byte) 0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        long fingerprint = ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong();
        assertThat(fingerprint).isEqualTo(SchemaNormalization.parsingFingerprint64(ImageEvent.getClassSchema()));
        assertThat(serde.decode(bytes)).isEqualTo(event);

        ImageEvent byReference = ImageEvent.newBuilder().setId("r-1")
                .setImage(new ImageReference("file:///data/a.jpg", null, 123L, "ab"))
                .setEventTime(now).build();
        assertThat(serde.decode(serde.encode(byReference))).isEqualTo(byReference);
    }

    @Test
    void labelsAndFailuresRoundTrip() throws Exception {
        AvroSerde<ImageLabels> labels = AvroSerdes.imageLabels();
        ImageLabels l = ImageLabels.newBuilder().setId("x")
                .setLabels(List.of(new Label(3, "tiger shark", 0.5f, null)))
                .setModel(new ModelIdentity("resnet50", "1", "00ff"))
                .setRecipe(new RecipeIdentity("imagenet", "0123456789abcdef"))
                .setFlags(List.of(new ModerationFlag("weapons", 413, "assault rifle", 0.9f, 0.8f, null)))
                .setBatchSize(8).setTimings(new Timings(1.5, 2.5, 3.5))
                .setSource(new SourceCoordinates("images", 2, 99L)).setLabeledAt(now).build();
        assertThat(labels.decode(labels.encode(l))).isEqualTo(l);

        AvroSerde<ImageFailure> failures = AvroSerdes.imageFailure();
        ImageFailure f = ImageFailure.newBuilder().setId(null).setReason(FailureReason.UNKNOWN_SCHEMA)
                .setMessage("m").setSource(new SourceCoordinates("images", 0, 1L))
                .setOriginalValue(ByteBuffer.wrap(new byte[] {9, 9}))
                .setHeaders(List.of(new Header("trace", ByteBuffer.wrap(new byte[] {1}))))
                .setFailedAt(now).build();
        assertThat(failures.decode(failures.encode(f))).isEqualTo(f);
    }

    @Test
    void readsARecordWrittenWithAnOlderCompatibleSchema() throws Exception {
        Schema old;
        try (InputStream in = getClass().getResourceAsStream("/old-schemas/ImageEvent-v0.avsc")) {
            old = new Schema.Parser().parse(in);
        }
        GenericRecord inline = new GenericData.Record(old.getField("image").schema().getTypes().get(0));
        inline.put("data", ByteBuffer.wrap(new byte[] {7, 7}));
        inline.put("contentType", "image/png");
        GenericRecord record = new GenericData.Record(old);
        record.put("id", "old-1");
        record.put("image", inline);
        record.put("eventTime", now.toEpochMilli());
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(record).array();

        AvroSerde<ImageEvent> serde = AvroSerdes.imageEvent();
        // Before the old schema is registered its fingerprint is unknown...
        assertThatThrownBy(() -> serde.decode(bytes)).isInstanceOfSatisfying(RecordDecodeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.UNKNOWN_SCHEMA));
        // ...after, it resolves to the current schema with defaults for the new fields.
        serde.addWriterSchema(old);
        ImageEvent event = serde.decode(bytes);
        assertThat(event.getId()).isEqualTo("old-1");
        assertThat(event.getSource()).isNull();
        assertThat(event.getAttributes()).isEmpty();
        assertThat(event.getEventTime()).isEqualTo(now);
        assertThat(((InlineImage) event.getImage()).getContentType()).isEqualTo("image/png");
    }

    @Test
    void failuresWrittenWithThePublishedV2SchemaAreStillReadWithoutAModel() throws Exception {
        Schema v2 = SchemaHistory.load(getClass().getClassLoader(), SchemaHistory.DEFAULT_FOLDER, "ImageFailure")
                .stream().filter(s -> s.getDoc().contains("before failures named their model")).findFirst()
                .orElseThrow();
        GenericRecord source = new GenericData.Record(v2.getField("source").schema());
        source.put("topic", "images");
        source.put("partition", 2);
        source.put("offset", 9L);
        GenericRecord old = new GenericData.Record(v2);
        old.put("id", "v2-failure");
        old.put("reason", new GenericData.EnumSymbol(v2.getField("reason").schema(), "MODEL_ERROR"));
        old.put("message", "it failed");
        old.put("source", source);
        old.put("headers", List.of());
        old.put("failedAt", now.toEpochMilli());
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v2).encode(old).array();
        ImageFailure read = AvroSerdes.imageFailure().decode(bytes);
        assertThat(read.getId()).isEqualTo("v2-failure");
        assertThat(read.getReason()).isEqualTo(FailureReason.MODEL_ERROR);
        assertThat(read.getModel()).isNull();
        assertThat(read.getSource().getOffset()).isEqualTo(9L);
    }

    @Test
    void labelsWrittenWithThePublishedV1SchemaAreStillRead() throws Exception {
        // schemas/history/ImageLabels-v1.avsc is on the classpath; the serde registers it by itself.
        Schema v1 = SchemaHistory.load(getClass().getClassLoader(), SchemaHistory.DEFAULT_FOLDER, "ImageLabels").get(0);
        GenericRecord source = new GenericData.Record(v1.getField("source").schema());
        source.put("topic", "images");
        source.put("partition", 1);
        source.put("offset", 5L);
        Schema labelSchema = v1.getField("labels").schema().getElementType();
        GenericRecord label = new GenericData.Record(labelSchema);
        label.put("classIndex", 3);
        label.put("label", "x");
        label.put("score", 0.5f);
        GenericRecord model = new GenericData.Record(v1.getField("model").schema());
        model.put("name", "m");
        model.put("version", "1");
        model.put("sha256", "ab");
        GenericRecord timings = new GenericData.Record(v1.getField("timings").schema());
        timings.put("queueMs", 1.0);
        timings.put("preprocessMs", 2.0);
        timings.put("inferenceMs", 3.0);
        GenericRecord old = new GenericData.Record(v1);
        old.put("id", "v1-record");
        old.put("labels", List.of(label));
        old.put("model", model);
        old.put("batchSize", 8);
        old.put("timings", timings);
        old.put("source", source);
        old.put("labeledAt", now.toEpochMilli());
        byte[] bytes = new BinaryMessageEncoder<GenericRecord>(GenericData.get(), v1).encode(old).array();
        ImageLabels read = AvroSerdes.imageLabels().decode(bytes);
        assertThat(read.getId()).isEqualTo("v1-record");
        assertThat(read.getFlags()).isEmpty();
        assertThat(read.getRecipe().getHash()).isEmpty();
        assertThat(read.getLabels().get(0).getClassIndex()).isEqualTo(3);
    }

    @Test
    void aReaderOfThePublishedV2SchemaReadsLabelsAndFlagsThatCarryMaps() throws Exception {
        ActivationMap map = new ActivationMap(2, 3, ByteBuffer.wrap(new byte[] {0, 10, (byte) 255, 4, 5, 6}),
                new SourceBox(12.5f, 0f, 300f, 300f));
        ImageLabels current = ImageLabels.newBuilder().setId("with-maps")
                .setLabels(List.of(new Label(3, "tiger shark", 0.5f, map), new Label(4, "x", 0.25f, null)))
                .setModel(new ModelIdentity("resnet50", "1", "00ff"))
                .setRecipe(new RecipeIdentity("imagenet", "0123456789abcdef"))
                .setFlags(List.of(new ModerationFlag("sharks", 3, "tiger shark", 0.5f, 0.4f, map)))
                .setBatchSize(8).setTimings(new Timings(1.5, 2.5, 3.5))
                .setSource(new SourceCoordinates("images", 2, 99L)).setLabeledAt(now).build();
        byte[] bytes = AvroSerdes.imageLabels().encode(current);
        assertThat(AvroSerdes.imageLabels().decode(bytes)).isEqualTo(current);

        Schema v2 = SchemaHistory.load(getClass().getClassLoader(), SchemaHistory.DEFAULT_FOLDER, "ImageLabels")
                .stream().filter(s -> s.getDoc().contains("before class activation maps")).findFirst().orElseThrow();
        // The new field is optional (null first, default null): the old schema reads the new record, resolved.
        assertThat(SchemaCompatibility.checkReaderWriterCompatibility(v2, ImageLabels.getClassSchema()).getType())
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        assertThat(SchemaCompatibility.checkReaderWriterCompatibility(ImageLabels.getClassSchema(), v2).getType())
                .isEqualTo(SchemaCompatibility.SchemaCompatibilityType.COMPATIBLE);
        GenericRecord old = new GenericDatumReader<GenericRecord>(ImageLabels.getClassSchema(), v2).read(null,
                DecoderFactory.get().binaryDecoder(bytes, 10, bytes.length - 10, null));
        assertThat(old.get("id").toString()).isEqualTo("with-maps");
        GenericRecord label = (GenericRecord) ((List<?>) old.get("labels")).get(0);
        assertThat(label.get("classIndex")).isEqualTo(3);
        assertThat(label.getSchema().getField("activation")).isNull();
        GenericRecord flag = (GenericRecord) ((List<?>) old.get("flags")).get(0);
        assertThat(flag.get("rule").toString()).isEqualTo("sharks");
        assertThat(((GenericRecord) old.get("source")).get("offset")).isEqualTo(99L);
    }

    @Test
    void historyFolderSchemasAreFoundByNameAndVersion() {
        List<Schema> found = SchemaHistory.load(getClass().getClassLoader(), "old-schemas-history", "ImageEvent");
        assertThat(found).isEmpty();
        assertThat(SchemaHistory.load(getClass().getClassLoader(), "history-test", "ImageEvent"))
                .extracting(Schema::getFullName).containsExactly("io.labelstream.schema.ImageEvent");
    }

    @Test
    void garbageAndEmptyValuesAreInvalidEvents() {
        AvroSerde<ImageEvent> serde = AvroSerdes.imageEvent();
        for (byte[] bad : new byte[][] {new byte[0], "hello".getBytes(), null}) {
            assertThatThrownBy(() -> serde.decode(bad)).isInstanceOfSatisfying(RecordDecodeException.class,
                    e -> assertThat(e.reason()).isEqualTo(FailureReason.INVALID_EVENT));
        }
        byte[] good = serde.encode(ImageEvent.newBuilder().setId("t")
                .setImage(new InlineImage(ByteBuffer.wrap(new byte[100]), null)).setEventTime(now).build());
        byte[] truncated = java.util.Arrays.copyOf(good, 20);
        assertThatThrownBy(() -> serde.decode(truncated)).isInstanceOfSatisfying(RecordDecodeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.INVALID_EVENT));
    }

    @Test
    void aConfluentFramedRecordWithoutARegistryIsAnInvalidEventThatNamesTheSetting() {
        byte[] framed = ConfluentFraming.frame(42, new byte[] {2, 'x'});
        assertThat(ConfluentFraming.isFramed(framed)).isTrue();
        assertThat(ConfluentFraming.schemaId(framed)).isEqualTo(42);
        assertThatThrownBy(() -> AvroSerdes.imageEvent().decode(framed)).isInstanceOfSatisfying(
                RecordDecodeException.class, e -> {
                    assertThat(e.reason()).isEqualTo(FailureReason.INVALID_EVENT);
                    assertThat(e.getMessage()).contains("Confluent-framed").contains("schema id 42")
                            .contains("schema.registry.url is not set");
                });
    }
}
