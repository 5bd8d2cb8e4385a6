package io.labelstream.stream;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageLabelRank;
import io.labelstream.schema.ImageLabelRow;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.InlineImage;
import io.labelstream.schema.Topics;
import io.labelstream.testing.DriverPump;
import io.labelstream.testing.PoisonableModel;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * labels.flat.topic and labels.ranks.topic: every labeled image becomes one flat row with the labels record's top-1,
 * model, source and flags, and one row per rank of its top-k, beside (never instead of) its ImageLabels; failures
 * make no rows; with both settings empty the topology has no such sinks.
 */
class FlatRowsTopologyTest {

    private static final Instant EVENT_TIME = Instant.parse("2026-01-02T03:04:05Z");

    @Test
    void labeledImagesBecomeOneRowEachAndOneRowPerRank() throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 3, Scores.OutputKind.AUTO, 1)) {
            ModerationRules rules = ModerationRules.parse("sevens:index=7>=0.9", model.labels());
            Topics topics = Topics.named(List.of("in"), null, "labels", "failures", "flagged")
                    .withRows("label-rows", "label-ranks");
            var options = new LabelingTopology.Options(topics, rules, null, null,
                    io.labelstream.ops.PipelineMetrics.inMemory(), 3, 1000, 1, Duration.ofMillis(10),
                    TransactionBudget.defaults(3));
            try (TopologyTestDriver driver = new TopologyTestDriver(LabelingTopology.build(options, engine),
                    properties("flat-rows-test"), Instant.EPOCH)) {
                var in = driver.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
                var labelsOut = driver.createOutputTopic("labels", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                var rowsOut = driver.createOutputTopic("label-rows", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                var ranksOut = driver.createOutputTopic("label-ranks", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                in.pipeInput("key-7".getBytes(StandardCharsets.UTF_8), event("level-7", PoisonableModel.image(7)));
                in.pipeInput("key-12".getBytes(StandardCharsets.UTF_8), event("level-12", PoisonableModel.image(12)));
                in.pipeInput("key-broken".getBytes(StandardCharsets.UTF_8),
                        event("broken", "not an image".getBytes(StandardCharsets.UTF_8)));

                Map<String, ImageLabels> labels = DriverPump.read(driver, Duration.ofMillis(10), labelsOut, 2).stream()
                        .map(r -> AvroSerdes.imageLabels().deserializer().deserialize("labels", r.value()))
                        .collect(Collectors.toMap(ImageLabels::getId, Function.identity()));
                List<TestRecord<byte[], byte[]>> rowRecords = rowsOut.readRecordsToList();
                List<ImageLabelRow> rows = rowRecords.stream()
                        .map(r -> AvroSerdes.imageLabelRow().deserializer().deserialize("label-rows", r.value())).toList();
                List<ImageLabelRank> ranks = ranksOut.readValuesToList().stream()
                        .map(v -> AvroSerdes.imageLabelRank().deserializer().deserialize("label-ranks", v)).toList();

                assertThat(rows).extracting(ImageLabelRow::getId).containsExactly("level-7", "level-12");
                assertThat(rowRecords).extracting(r -> new String(r.key(), StandardCharsets.UTF_8))
                        .as("the input's key, as on every output").containsExactly("key-7", "key-12");
                for (ImageLabelRow row : rows) {
                    ImageLabels source = labels.get(row.getId());
                    var top = source.getLabels().get(0);
                    assertThat(row.getLabel()).isEqualTo(top.getLabel());
                    assertThat(row.getClassIndex()).isEqualTo(top.getClassIndex());
                    assertThat(row.getScore()).isEqualTo(top.getScore());
                    assertThat(row.getRanks()).isEqualTo(source.getLabels().size()).isGreaterThan(1);
                    assertThat(row.getModelName()).isEqualTo(source.getModel().getName());
                    assertThat(row.getModelVersion()).isEqualTo(source.getModel().getVersion());
                    assertThat(row.getModelSha256()).isEqualTo(source.getModel().getSha256());
                    assertThat(row.getSourceTopic()).isEqualTo("in");
                    assertThat(row.getSourcePartition()).isEqualTo(source.getSource().getPartition());
                    assertThat(row.getSourceOffset()).isEqualTo(source.getSource().getOffset());
                    assertThat(row.getEventTime()).isEqualTo(EVENT_TIME);
                    assertThat(row.getImageUri()).as("inline bytes").isNull();
                    assertThat(row.getLabeledAt()).isEqualTo(source.getLabeledAt());
                    assertThat(row.getFromCache()).isFalse();

                    List<ImageLabelRank> own = ranks.stream().filter(r -> r.getId().equals(row.getId())).toList();
                    assertThat(own).extracting(ImageLabelRank::getRank)
                            .containsExactly(java.util.stream.IntStream.rangeClosed(1, source.getLabels().size())
                                    .boxed().toArray(Integer[]::new));
                    for (ImageLabelRank rank : own) {
                        var label = source.getLabels().get(rank.getRank() - 1);
                        assertThat(rank.getLabel()).isEqualTo(label.getLabel());
                        assertThat(rank.getClassIndex()).isEqualTo(label.getClassIndex());
                        assertThat(rank.getScore()).isEqualTo(label.getScore());
                        assertThat(rank.getModelSha256()).isEqualTo(row.getModelSha256());
                    }
                }
                assertThat(ranks).hasSize(rows.stream().mapToInt(ImageLabelRow::getRanks).sum());
                ImageLabelRow seven = rows.get(0);
                assertThat(seven.getFlagged()).isTrue();
                assertThat(seven.getFlags()).isEqualTo("sevens");
                ImageLabelRow twelve = rows.get(1);
                assertThat(twelve.getFlagged()).isFalse();
                assertThat(twelve.getFlags()).isEmpty();
            }
        }
    }

    @Test
    void withoutTheSettingsThereAreNoRowSinks() {
        var options = new LabelingTopology.Options(List.of("in"), "labels", "failures", 1, 1000, 1,
                Duration.ofMillis(10));
        String description = LabelingTopology.build(options, null).describe().toString();
        assertThat(description).doesNotContain(LabelingTopology.ROWS_SINK + " (").doesNotContain("label-ranks")
                .contains("Sink: " + LabelingTopology.LABELS_SINK + " ");
    }

    private static byte[] event(String id, byte[] image) {
        return AvroSerdes.imageEvent().encode(ImageEvent.newBuilder().setId(id).setEventTime(EVENT_TIME)
                .setImage(new InlineImage(ByteBuffer.wrap(image), null)).build());
    }

    private static Properties properties(String applicationId) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, System.getProperty("java.io.tmpdir") + "/" + applicationId + "-"
                + System.nanoTime());
        return props;
    }
}
