package io.labelstream.stream;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ReferenceFetcher;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.RecordDecodeException;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.testing.DriverPump;
import io.labelstream.testing.PoisonableModel;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A partition's outputs, failures included, come out strictly in input order, whatever finishes first: records
 * refused at intake, fetch failures, cache hits and preprocessing failures finish before the inference of the
 * records ahead of them, and still wait their turn. Labels and failures go to one topic here, so the driver shows
 * their order across both.
 */
class StageOrderTopologyTest {

    private static final Duration TICK = Duration.ofMillis(10);

    @TempDir
    Path root;

    @Test
    void everyOutcomeComesOutInInputOrder() throws Exception {
        Files.write(root.resolve("level-8.png"), PoisonableModel.image(8));
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 2, Scores.OutputKind.AUTO, 2);
             ReferenceFetcher fetcher = new ReferenceFetcher(new ReferenceFetcher.Policy(List.of(root), Set.of(), 5000,
                     1 << 20, 2))) {
            var options = new LabelingTopology.Options(io.labelstream.schema.Topics.named(List.of("in"), null, "out", "out", "flagged"),
                    ModerationRules.none(), fetcher, new LabelingTopology.DedupOptions(100, 3_600_000),
                    PipelineMetrics.inMemory(), 3, 100, 2, TICK, TransactionBudget.defaults(3));
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "order-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            props.put(StreamsConfig.STATE_DIR_CONFIG, root.resolve("state").toString());
            try (TopologyTestDriver driver = new TopologyTestDriver(LabelingTopology.build(options, engine), props,
                    Instant.EPOCH)) {
                var in = driver.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
                var out = driver.createOutputTopic("out", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                pipe(in, "seed", TopicTraffic.event("seed", PoisonableModel.image(5)));
                driver.advanceWallClockTime(Duration.ofMillis(200));
                assertThat(kinds(DriverPump.read(driver, TICK, out, 1))).containsExactly("labels");

                byte[] notAvro = "not avro".getBytes(StandardCharsets.UTF_8);
                byte[] unknownSchema = TopicTraffic.event("fp", PoisonableModel.image(3));
                unknownSchema[2] ^= 0x55;
                byte[] undecodable = TopicTraffic.event("broken", new byte[] {(byte) 0xFF, (byte) 0xD8, 1, 2, 3});
                pipe(in, "a", TopicTraffic.event("a", PoisonableModel.image(6)));
                pipe(in, "junk", notAvro);
                pipe(in, "ref", reference("ref", root.resolve("level-8.png").toUri().toString()));
                pipe(in, "again", TopicTraffic.event("again", PoisonableModel.image(5)));
                pipe(in, "missing", reference("missing", root.resolve("nowhere.png").toUri().toString()));
                pipe(in, "fp", unknownSchema);
                pipe(in, "poison", TopicTraffic.event("poison", PoisonableModel.image(250)));
                pipe(in, "b", TopicTraffic.event("b", PoisonableModel.image(7)));
                pipe(in, "broken", undecodable);
                pipe(in, "no-id", TopicTraffic.event("", PoisonableModel.image(4)));
                var traceHeader = new org.apache.kafka.common.header.internals.RecordHeaders();
                traceHeader.add("trace", new byte[] {1});
                in.pipeInput(new TestRecord<>("tomb".getBytes(StandardCharsets.UTF_8), null, traceHeader));
                pipe(in, "c", TopicTraffic.event("c", PoisonableModel.image(9)));
                driver.advanceWallClockTime(Duration.ofMillis(200)); // the last partial batch is due
                List<TestRecord<byte[], byte[]>> records = DriverPump.read(driver, TICK, out, 12);

                assertThat(records).extracting(r -> new String(r.key(), StandardCharsets.UTF_8)).containsExactly(
                        "a", "junk", "ref", "again", "missing", "fp", "poison", "b", "broken", "no-id", "tomb", "c");
                assertThat(kinds(records)).containsExactly("labels", "INVALID_EVENT", "labels", "cached",
                        "FETCH_FAILED", "UNKNOWN_SCHEMA", "MODEL_ERROR", "labels", "UNDECODABLE_IMAGE",
                        "INVALID_EVENT", "INVALID_EVENT", "labels");
                // A tombstone waits in the buffer like any record and leaves it as it came: no value, its headers.
                var tombstone = AvroSerdes.imageFailure().decode(records.get(10).value());
                assertThat(tombstone.getOriginalValue()).isNull();
                assertThat(tombstone.getHeaders()).extracting(io.labelstream.schema.Header::getKey).containsExactly("trace");
                assertThat(records.get(10).headers().toArray()).extracting(h -> h.key()).containsExactly("trace");
                assertThat(records).extracting(r -> offset(r.value())).isSorted().doesNotHaveDuplicates();
                assertThat(driver.getKeyValueStore(LabelingTopology.BUFFER_STORE).approximateNumEntries()).isZero();
            }
        }
    }

    private static void pipe(TestInputTopic<byte[], byte[]> in, String key, byte[] value) {
        in.pipeInput(key.getBytes(StandardCharsets.UTF_8), value);
    }

    private static byte[] reference(String id, String uri) {
        return AvroSerdes.imageEvent().encode(ImageEvent.newBuilder().setId(id).setEventTime(Instant.EPOCH)
                .setImage(new ImageReference(uri, "image/png", null, null)).build());
    }

    /** "labels", "cached", or the failure's reason. */
    private static List<String> kinds(List<TestRecord<byte[], byte[]>> records) throws RecordDecodeException {
        List<String> kinds = new ArrayList<>();
        for (TestRecord<byte[], byte[]> r : records) {
            ImageLabels labels = labelsOrNull(r.value());
            kinds.add(labels != null ? (labels.getFromCache() ? "cached" : "labels")
                    : AvroSerdes.imageFailure().decode(r.value()).getReason().name());
        }
        return kinds;
    }

    private static long offset(byte[] value) {
        ImageLabels labels = labelsOrNull(value);
        if (labels != null) {
            return labels.getSource().getOffset();
        }
        try {
            return AvroSerdes.imageFailure().decode(value).getSource().getOffset();
        } catch (RecordDecodeException e) {
            throw new AssertionError(e);
        }
    }

    private static ImageLabels labelsOrNull(byte[] value) {
        try {
            return AvroSerdes.imageLabels().decode(value);
        } catch (RecordDecodeException e) {
            return null; // a failure record: another schema's fingerprint
        }
    }
}
