package io.labelstream.stream;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.RecordDecodeException;
import io.labelstream.schema.Topics;
import io.labelstream.testing.DriverPump;
import io.labelstream.testing.PoisonableModel;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Side models label every image from the primary's decode (the primary's batch tensor, or one of their own when
 * their recipe is another), each to its own topic; a side model's rule flags,
 * a shadow never does and is compared with the primary, and a side model that fails on an image fails only its own
 * output, with a failure record that names it.
 */
class SideModelsTopologyTest {

    private static final Duration TICK = Duration.ofMillis(10);
    private static final int BATCH = 4;
    /** Images by their brightest value: the side model "narrow" fails on 60, every model on 250. */
    private static final int[] LEVELS = {6, 10, 60, 250};

    @Test
    void everyModelWritesItsOwnTopicFromOneDecodeAndFailsOnlyItsOwnOutput() throws Exception {
        PipelineMetrics metrics = PipelineMetrics.inMemory();
        LoadedModel primary = LoadedModel.load(PoisonableModel.file(0), null, "primary", new SessionSettings(1));
        try (LabelingEngine engine = new LabelingEngine(primary, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 1)) {
            engine.addSideModel("mod", LoadedModel.load(PoisonableModel.file(1), null, "mod", new SessionSettings(1)), 1);
            engine.addSideModel("cand", LoadedModel.load(PoisonableModel.file(0), null, "cand",
                    new SessionSettings(1)), 1);
            engine.addSideModel("narrow", LoadedModel.load(PoisonableModel.file(0, 50), null, "narrow",
                    new SessionSettings(1)), 1);
            // Its own recipe, halving every value: its class for an image is that of half its brightest value.
            ImagePreprocessor halving = new ImagePreprocessor(new PreprocessRecipe("raw32-halved",
                    PreprocessRecipe.ResizeMode.EXACT, 32, 32, 32, PreprocessRecipe.PixelScale.BYTE,
                    new float[] {0, 0, 0}, new float[] {2, 2, 2}, PreprocessRecipe.ChannelOrder.RGB, false),
                    new ImageDecoder(ImageLimits.defaults()));
            engine.addSideModel("halved", LoadedModel.load(PoisonableModel.file(0), null, "halved",
                    new SessionSettings(1)), 1, halving);
            Map<String, io.labelstream.model.LabelSet> sideLabels = new LinkedHashMap<>();
            engine.sideModels().forEach(side -> sideLabels.put(side.name(), side.serving().model().labels()));
            // mod's class for level 6 is 7: its rule fires there; the same rule text on the primary would not.
            ModerationRules rules = ModerationRules.parse("sevens:model=mod,index=7>=0.9", primary.labels(),
                    sideLabels, Set.of("cand"));
            Map<String, String> sideTopics = new LinkedHashMap<>();
            sideTopics.put("mod", "mod-labels");
            sideTopics.put("cand", "cand-labels");
            sideTopics.put("narrow", "narrow-labels");
            sideTopics.put("halved", "halved-labels");
            var options = new LabelingTopology.Options(Topics.named(List.of("in"), null, "labels", "failures",
                    "flagged").withSideLabels(sideTopics), rules, null, null, metrics, BATCH, 60_000, 2, TICK,
                    TransactionBudget.defaults(BATCH), Set.of("cand"));
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "side-models-test");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
            try (TopologyTestDriver driver = new TopologyTestDriver(LabelingTopology.build(options, engine), props,
                    Instant.EPOCH)) {
                var in = driver.createInputTopic("in", new ByteArraySerializer(), new ByteArraySerializer());
                for (int level : LEVELS) {
                    String id = "level-" + level;
                    in.pipeInput(id.getBytes(StandardCharsets.UTF_8), TopicTraffic.event(id, PoisonableModel.image(level)));
                }
                List<ImageLabels> labels = labels(DriverPump.read(driver, TICK, output(driver, "labels"), 3));
                List<ImageLabels> mod = labels(DriverPump.read(driver, TICK, output(driver, "mod-labels"), 3));
                List<ImageLabels> cand = labels(DriverPump.read(driver, TICK, output(driver, "cand-labels"), 3));
                List<ImageLabels> narrow = labels(DriverPump.read(driver, TICK, output(driver, "narrow-labels"), 2));
                List<ImageLabels> halved = labels(DriverPump.read(driver, TICK, output(driver, "halved-labels"), 3));
                List<ImageFailure> failures = DriverPump.read(driver, TICK, output(driver, "failures"), 6).stream()
                        .map(r -> failure(r.value())).toList();
                List<ImageLabels> flagged = labels(output(driver, "flagged").readRecordsToList());

                assertThat(metrics.registry().get("labelstream.batch.size").summary().count())
                        .as("one batch, decoded once, for every model").isEqualTo(1);
                assertThat(labels).extracting(ImageLabels::getId).containsExactly("level-6", "level-10", "level-60");
                assertThat(labels).allSatisfy(l -> assertThat(l.getModel().getName()).isEqualTo("primary"));
                assertThat(labels).extracting(l -> l.getLabels().get(0).getClassIndex()).containsExactly(6, 0, 0);
                assertThat(mod).extracting(ImageLabels::getId).containsExactly("level-6", "level-10", "level-60");
                assertThat(mod).allSatisfy(l -> assertThat(l.getModel().getName()).isEqualTo("mod"));
                assertThat(mod).extracting(l -> l.getLabels().get(0).getClassIndex()).containsExactly(7, 1, 1);
                assertThat(cand).extracting(ImageLabels::getId).containsExactly("level-6", "level-10", "level-60");
                assertThat(cand).allSatisfy(l -> assertThat(l.getFlags()).isEmpty());
                assertThat(narrow).extracting(ImageLabels::getId).containsExactly("level-6", "level-10");
                assertThat(halved).extracting(l -> l.getLabels().get(0).getClassIndex()).containsExactly(3, 5, 0);
                assertThat(halved).allSatisfy(l -> {
                    assertThat(l.getRecipe().getName()).isEqualTo("raw32-halved");
                    assertThat(l.getRecipe().getHash()).isEqualTo(halving.recipeHash())
                            .isNotEqualTo(engine.recipeHash());
                });
                assertThat(labels).allSatisfy(l -> assertThat(l.getRecipe().getHash()).isEqualTo(engine.recipeHash()));

                assertThat(flagged).singleElement().satisfies(f -> {
                    assertThat(f.getId()).isEqualTo("level-6");
                    assertThat(f.getModel().getName()).isEqualTo("mod");
                    assertThat(f.getFlags()).singleElement().satisfies(flag -> {
                        assertThat(flag.getRule()).isEqualTo("sevens");
                        assertThat(flag.getClassIndex()).isEqualTo(7);
                    });
                });
                assertThat(labels).allSatisfy(l -> assertThat(l.getFlags()).as("the rule reads mod only").isEmpty());

                // In input order: level-60 fails on narrow only; level-250 on every model, each naming it.
                assertThat(failures).extracting(f -> f.getId() + "/" + f.getModel().getName()).containsExactly(
                        "level-60/narrow", "level-250/primary", "level-250/mod", "level-250/cand",
                        "level-250/narrow", "level-250/halved");
                assertThat(failures).allSatisfy(f -> assertThat(f.getReason()).isEqualTo(FailureReason.MODEL_ERROR));
                assertThat(failures.get(0).getMessage()).startsWith("side model narrow: ");

                var registry = metrics.registry();
                assertThat(registry.get("labelstream.shadow.images").tag("model", "cand").counter().count())
                        .isEqualTo(3);
                assertThat(registry.get("labelstream.shadow.top1.agreement.ratio").tag("model", "cand").gauge()
                        .value()).as("the same model as the primary agrees on every image").isEqualTo(1.0);
                assertThat(registry.get("labelstream.shadow.top1.probability.difference").tag("model", "cand")
                        .summary().max()).isZero();
                assertThat(registry.get("labelstream.side.inference").tag("model", "cand").timer().count())
                        .as("once per batch").isEqualTo(1);
                assertThat(registry.get("labelstream.side.inference").tag("model", "narrow").timer().count())
                        .isEqualTo(1);
                assertThat(registry.find("labelstream.shadow.images").tag("model", "mod").counter()).isNull();
            }
        }
    }

    private static TestOutputTopic<byte[], byte[]> output(TopologyTestDriver driver, String topic) {
        return driver.createOutputTopic(topic, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }

    private static List<ImageLabels> labels(List<org.apache.kafka.streams.test.TestRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> {
            try {
                return AvroSerdes.imageLabels().decode(r.value());
            } catch (RecordDecodeException e) {
                throw new AssertionError(e);
            }
        }).toList();
    }

    private static ImageFailure failure(byte[] value) {
        try {
            return AvroSerdes.imageFailure().decode(value);
        } catch (RecordDecodeException e) {
            throw new AssertionError(e);
        }
    }
}
