package io.labelstream.review;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SourceRegion;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.Topics;
import io.labelstream.stream.Pipeline;
import io.labelstream.testing.ColourModel;
import io.labelstream.testing.CommittedRecords;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.awt.Color;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real flagged records for the console's tests: the colour model labels images on the embedded broker, its rule
 * flags the red ones with the map of red, and the pipeline stops again; the flagged topic and the input records
 * stay.
 */
final class FlaggedTraffic {

    private FlaggedTraffic() {
    }

    /** The pipeline's settings for application {@code app} on {@code kafka}, models written into {@code dir}. */
    static Map<String, String> settings(String app, EmbeddedKafka kafka, Path dir) throws Exception {
        Map<String, String> s = ColourModel.flaggingPipeline(kafka.bootstrapServers(), app, dir);
        s.put("reviews.topic", app + "-reviews");
        s.put("ops.port", "-1");
        return s;
    }

    /** {@link #settings} for application {@code app}, after {@link #flag flagging} {@code redIds}. */
    static Map<String, String> flagged(String app, EmbeddedKafka kafka, Path dir, List<String> redIds)
            throws Exception {
        Map<String, String> settings = settings(app, kafka, dir);
        flag(settings, kafka, redIds);
        return settings;
    }

    /** A broker of its own with flagged images on it, for one test class; closing it stops the broker. */
    record OnBroker(EmbeddedKafka kafka, Map<String, String> settings) implements AutoCloseable {
        @Override
        public void close() {
            kafka.close();
        }
    }

    /** Starts a broker and flags {@code redIds} on it for application {@code app}. */
    static OnBroker onNewBroker(String app, Path dir, List<String> redIds) throws Exception {
        EmbeddedKafka kafka = EmbeddedKafka.start();
        try {
            return new OnBroker(kafka, flagged(app, kafka, dir, redIds));
        } catch (Exception | Error e) {
            kafka.close();
            throw e;
        }
    }

    /** Labels {@code redIds} (flagged, with maps) and one green image (not flagged); returns when all are out. */
    static void flag(Map<String, String> settings, EmbeddedKafka kafka, List<String> redIds) throws Exception {
        LinkedHashMap<String, byte[]> events = new LinkedHashMap<>();
        for (String id : redIds) {
            events.put(id, TopicTraffic.event(id, redCells(1, 0)));
        }
        flag(settings, kafka, events);
    }

    /**
     * Labels {@code redEvents} (input records, each an image the rule flags) and one green image (not flagged);
     * returns when all are out.
     */
    static void flag(Map<String, String> settings, EmbeddedKafka kafka, LinkedHashMap<String, byte[]> redEvents)
            throws Exception {
        String app = settings.get("application.id");
        LabelstreamConfig config = LabelstreamConfig.of(settings);
        try (LabelingEngine engine = EngineFactory.create(config);
             Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine)) {
            assertThat(pipeline.awaitRunning(Duration.ofMinutes(3))).isTrue();
            LinkedHashMap<String, byte[]> events = new LinkedHashMap<>(redEvents);
            events.put("green", TopicTraffic.event("green", ColourModel.squareImage(400, 300, 0, 0, 200,
                    Color.GREEN)));
            TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
            traffic.publishAll(app + "-in", events);
            // Read as the console reads them: in the configuration's encoding, under its schema registry if any.
            List<String> flagged = new ArrayList<>();
            try (Topics topics = Topics.forConfig(config);
                 CommittedRecords out = traffic.committed(app + "-flagged", app + "-failures")) {
                for (ConsumerRecord<byte[], byte[]> r : out.awaitAll(app + "-in", redEvents.size(),
                        Duration.ofMinutes(2), pipeline::fatalError).records()) {
                    assertThat(r.topic()).as("no failure").isEqualTo(app + "-flagged");
                    flagged.add(topics.flagged().value(r).getId());
                }
            }
            assertThat(flagged).containsExactlyElementsOf(redEvents.keySet());
        }
    }

    /**
     * A grey 400 × 300 PNG whose red square covers the last {@code cells} (1 to 6) cells of the top row of the
     * colour model's 7 × 7 grid, {@code shift} (0 to 2) pixels down: the more cells, the higher p(red); one cell is
     * enough for the rule.
     */
    static byte[] redCells(int cells, int shift) {
        SourceRegion seen = PreprocessRecipe.IMAGENET.region(400, 300);
        int side = (int) (seen.width() / 7);
        return ColourModel.rectangleImage(400, 300, (int) (seen.x() + (7 - cells) * seen.width() / 7) + 1,
                (int) seen.y() + 1 + shift, cells * side - 2, side - 2, Color.RED);
    }

    /** {@code command} followed by every setting as {@code -s KEY=VALUE}: a command line for the same cluster. */
    static String[] commandLine(Map<String, String> settings, String... command) {
        List<String> args = new ArrayList<>(List.of(command));
        settings.forEach((k, v) -> args.addAll(List.of("-s", k + "=" + v)));
        return args.toArray(String[]::new);
    }
}
