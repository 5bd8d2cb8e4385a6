package io.labelstream.review;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SourceRegion;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.stream.Pipeline;
import io.labelstream.testing.ColourModel;
import io.labelstream.testing.TopicTraffic;

import java.awt.Color;
import java.nio.file.Path;
import java.time.Duration;
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
        String app = settings.get("application.id");
        LabelstreamConfig config = LabelstreamConfig.of(settings);
        try (LabelingEngine engine = EngineFactory.create(config);
             Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine)) {
            assertThat(pipeline.awaitRunning(Duration.ofMinutes(3))).isTrue();
            SourceRegion seen = PreprocessRecipe.IMAGENET.region(400, 300);
            int side = (int) (seen.width() / 7);
            LinkedHashMap<String, byte[]> events = new LinkedHashMap<>();
            for (String id : redIds) {
                events.put(id, TopicTraffic.event(id, ColourModel.squareImage(400, 300,
                        (int) (seen.x() + 6 * seen.width() / 7) + 1, (int) seen.y() + 1, side - 2, Color.RED)));
            }
            events.put("green", TopicTraffic.event("green", ColourModel.squareImage(400, 300, 0, 0, 200,
                    Color.GREEN)));
            TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
            traffic.publishAll(app + "-in", events);
            TopicTraffic.Outcome flagged = traffic.awaitOutcome(app + "-in", app + "-flagged", app + "-failures",
                    redIds.size(), Duration.ofMinutes(2), pipeline::fatalError);
            assertThat(flagged.labeledCounts()).containsOnlyKeys(redIds.toArray(String[]::new));
        }
    }
}
