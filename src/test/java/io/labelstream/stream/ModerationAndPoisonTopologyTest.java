package io.labelstream.stream;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.JpegDecoding;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.testing.PoisonableModel;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/** Moderation routing and poison isolation inside the topology, with the small model that fails on bright images. */
class ModerationAndPoisonTopologyTest {

    @Test
    void flaggedImagesGoToBothTopicsAndAPoisonImageFailsAloneInsideItsBatch() throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 3, Scores.OutputKind.AUTO, 1)) {
            ModerationRules rules = ModerationRules.parse("sevens:index=7>=0.9", model.labels());
            java.nio.file.Path root = java.nio.file.Files.createTempDirectory(
                    java.nio.file.Path.of(System.getProperty("java.io.tmpdir")), "refs");
            java.nio.file.Files.write(root.resolve("level-37.png"), PoisonableModel.image(37));
            var fetcher = new io.labelstream.image.ReferenceFetcher(new io.labelstream.image.ReferenceFetcher.Policy(
                    List.of(root), java.util.Set.of(), 2000, 1 << 20, 2));
            var options = new LabelingTopology.Options(io.labelstream.schema.Topics.named(List.of("in"), null, "labels", "failures", "flagged"), rules,
                    fetcher, null, io.labelstream.ops.PipelineMetrics.inMemory(), 5, 1000, 1,
                    Duration.ofMillis(10), TransactionBudget.defaults(5));
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "moderation-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            try (fetcher; TopologyTestDriver driver = new TopologyTestDriver(LabelingTopology.build(options, engine), props,
                    Instant.EPOCH)) {
                var in = driver.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
                var labels = driver.createOutputTopic("labels", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                var flagged = driver.createOutputTopic("flagged", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                var failures = driver.createOutputTopic("failures", new ByteArrayDeserializer(), new ByteArrayDeserializer());
                int[] levels = {7, 12, 250, 27};
                for (int level : levels) {
                    String id = "level-" + level;
                    in.pipeInput(id.getBytes(StandardCharsets.UTF_8), TopicTraffic.event(id, PoisonableModel.image(level)));
                }
                // The fifth image of the batch comes by reference (claim check) from the allowed folder.
                in.pipeInput("level-37".getBytes(StandardCharsets.UTF_8), AvroSerdes.imageEvent().encode(
                        io.labelstream.schema.ImageEvent.newBuilder().setId("level-37").setEventTime(Instant.EPOCH)
                                .setImage(new io.labelstream.schema.ImageReference(
                                        root.resolve("level-37.png").toUri().toString(), "image/png", null, null))
                                .build()));
                var labelsSerde = AvroSerdes.imageLabels();
                var labeledRecords = io.labelstream.testing.DriverPump.read(driver, Duration.ofMillis(10), labels, 4);
                List<ImageLabels> labeled = labeledRecords.stream().map(org.apache.kafka.streams.test.TestRecord::value)
                        .map(v -> labelsSerde.deserializer().deserialize("labels", v)).toList();
                List<ImageLabels> flaggedOut = flagged.readValuesToList().stream()
                        .map(v -> labelsSerde.deserializer().deserialize("flagged", v)).toList();
                List<ImageFailure> failed = failures.readValuesToList().stream()
                        .map(v -> AvroSerdes.imageFailure().deserializer().deserialize("failures", v)).toList();

                assertThat(labeled).extracting(ImageLabels::getId).containsExactly("level-7", "level-12", "level-27",
                        "level-37");
                assertThat(labeled.get(3).getLabels().get(0).getClassIndex()).isEqualTo(7);
                // The model file has no model_version: reported as the schema's "unknown", not a made-up number.
                assertThat(model.identity().version()).isNull();
                assertThat(labeled).allSatisfy(l -> assertThat(l.getModel().getVersion()).isEqualTo("unknown"));
                assertThat(labeled).allSatisfy(l -> {
                    assertThat(l.getRecipe().getName()).isEqualTo("raw32");
                    assertThat(l.getRecipe().getHash())
                            .isEqualTo(PoisonableModel.RECIPE.hash(JpegDecoding.automatic()));
                });
                assertThat(flaggedOut).extracting(ImageLabels::getId).containsExactly("level-7", "level-27", "level-37");
                assertThat(flaggedOut.get(0).getFlags()).singleElement().satisfies(f -> {
                    assertThat(f.getRule()).isEqualTo("sevens");
                    assertThat(f.getClassIndex()).isEqualTo(7);
                    assertThat(f.getScore()).isGreaterThanOrEqualTo(0.9f);
                });
                assertThat(labeled.get(1).getFlags()).isEmpty();
                assertThat(failed).singleElement().satisfies(f -> {
                    assertThat(f.getId()).isEqualTo("level-250");
                    assertThat(f.getReason()).isEqualTo(FailureReason.MODEL_ERROR);
                    assertThat(f.getModel()).as("the model that failed on it").isNotNull();
                    assertThat(f.getModel().getName()).isEqualTo("poisonable");
                    assertThat(f.getModel().getSha256()).isEqualTo(model.identity().sha256());
                });
            }
        }
    }
}
