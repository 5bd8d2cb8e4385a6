package io.labelstream.stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.cli.CliTestAccess;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SourceRegion;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.schema.ActivationMap;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.SchemaHistory;
import io.labelstream.testing.ColourModel;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.SchemaRegistryServer;
import io.labelstream.testing.TopicTraffic;
import org.apache.avro.Schema;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On a real broker, a record a moderation rule flags carries the class activation map of the class the rule fired
 * on, though {@code explain.top} is 0, and it points at the pixels that made it fire; under a schema registry whose
 * subjects hold the labels schema as published before maps, under FULL compatibility, the new one is accepted.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ExplainedFlagsEndToEndIT {

    @TempDir
    Path dir;

    private Map<String, String> settings(String app, String bootstrap) throws Exception {
        Map<String, String> s = ColourModel.flaggingPipeline(bootstrap, app, dir);
        s.put("ops.port", "0");
        return s;
    }

    @Test
    void aFlaggedRecordCarriesTheMapOfTheClassItsRuleFiredOn() throws Exception {
        try (EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String app = "explained-flags";
            LabelstreamConfig config = LabelstreamConfig.of(settings(app, kafka.bootstrapServers()));
            try (LabelingEngine engine = EngineFactory.create(config);
                 Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine)) {
                assertThat(pipeline.awaitRunning(Duration.ofMinutes(3))).isTrue();
                SourceRegion seen = PreprocessRecipe.IMAGENET.region(400, 300);
                int side = (int) (seen.width() / 7);
                var events = new LinkedHashMap<String, byte[]>();
                // Red in the seen part's top-right cell: flagged; green: labeled, not flagged.
                events.put("red", TopicTraffic.event("red", ColourModel.squareImage(400, 300,
                        (int) (seen.x() + 6 * seen.width() / 7) + 1, (int) seen.y() + 1, side - 2, Color.RED)));
                events.put("green", TopicTraffic.event("green", ColourModel.squareImage(400, 300, 0, 0, 200,
                        Color.GREEN)));
                TopicTraffic traffic = new TopicTraffic(kafka.bootstrapServers());
                traffic.publishAll(app + "-in", events);
                TopicTraffic.Outcome labels = traffic.awaitOutcome(app + "-in", app + "-labels", app + "-failures",
                        2, Duration.ofMinutes(2), pipeline::fatalError);
                assertThat(labels.labels()).allSatisfy(l -> assertThat(l.getLabels())
                        .as("explain.top=0: no label carries a map").allMatch(x -> x.getActivation() == null));
                TopicTraffic.Outcome flagged = traffic.awaitOutcome(app + "-in", app + "-flagged",
                        app + "-failures", 1, Duration.ofMinutes(2), pipeline::fatalError);
                ImageLabels red = flagged.labels().get(0);
                assertThat(red.getId()).isEqualTo("red");
                assertThat(red.getFlags()).singleElement().satisfies(flag -> {
                    assertThat(flag.getLabel()).isEqualTo("red");
                    ActivationMap map = flag.getActivation();
                    assertThat(map.getRows()).isEqualTo(7);
                    assertThat(map.getCols()).isEqualTo(7);
                    assertThat(map.getBox().getX()).isEqualTo(seen.x());
                    assertThat(map.getBox().getWidth()).isEqualTo(seen.width());
                    byte[] cells = new byte[map.getCells().remaining()];
                    map.getCells().duplicate().get(cells);
                    assertThat(cells).hasSize(49);
                    assertThat(cells[6] & 0xFF).as("row 0, column 6").isEqualTo(255);
                    assertThat(cells[7 * 6] & 0xFF).as("row 6, column 0").isZero();
                });
                assertThat(flagged.labeledCounts()).containsOnlyKeys("red");

                // tail shows the flag's map: in JSON as the record has it, in the table as shaded cells.
                String[] tail = {"tail", "--bootstrap-servers", kafka.bootstrapServers(), "-s",
                        "labels.topic=" + app + "-labels", "-s", "flagged.topic=" + app + "-flagged", "--flagged",
                        "--from-beginning", "--max", "3", "--idle-timeout", "PT60S"};
                ConsoleCapture.Captured json = ConsoleCapture.run(() -> CliTestAccess.execute(concat(tail, "--json")));
                assertThat(json.exitCode()).as(json.err()).isZero();
                JsonNode flaggedLine = json.out().lines().filter(l -> l.startsWith("{\"topic\":\"flagged\""))
                        .map(ExplainedFlagsEndToEndIT::parse).findFirst().orElseThrow();
                JsonNode map = flaggedLine.get("flags").get(0).get("activation");
                assertThat(map.get("rows").asInt()).isEqualTo(7);
                assertThat(map.get("cells").get(6).asInt()).isEqualTo(255);
                ConsoleCapture.Captured table = ConsoleCapture.run(() -> CliTestAccess.execute(tail));
                assertThat(table.out()).containsPattern("FLAG reds \\[      █\\|");
            }
        }
    }

    private static String[] concat(String[] args, String more) {
        String[] all = java.util.Arrays.copyOf(args, args.length + 1);
        all[args.length] = more;
        return all;
    }

    private static JsonNode parse(String line) {
        try {
            return new ObjectMapper().readTree(line);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }

    @Test
    void underARegistryTheLabelsSchemaWithMapsIsAcceptedAfterThePublishedOne() throws Exception {
        Schema published = SchemaHistory.load(getClass().getClassLoader(), SchemaHistory.DEFAULT_FOLDER,
                "ImageLabels").stream().filter(s -> s.getDoc().contains("before class activation maps")).findFirst()
                .orElseThrow();
        try (SchemaRegistryServer registry = SchemaRegistryServer.start();
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            String app = "explained-registry";
            Map<String, Integer> before = new HashMap<>();
            for (String subject : new String[] {app + "-labels-value", app + "-flagged-value"}) {
                before.put(subject, registry.register(subject, published.toString()));
                registry.setCompatibility(subject, "FULL");
            }
            Map<String, String> s = settings(app, kafka.bootstrapServers());
            s.put("schema.registry.url", registry.url());
            s.put("explain.top", "1");
            LabelstreamConfig config = LabelstreamConfig.of(s);
            try (LabelingEngine engine = EngineFactory.create(config);
                 Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine)) {
                assertThat(pipeline.awaitRunning(Duration.ofMinutes(3))).isTrue();
            }
            // Start-up registered the schema with maps as the subject's second version, under FULL compatibility.
            HttpClient http = HttpClient.newHttpClient();
            for (String subject : before.keySet()) {
                String versions = http.send(HttpRequest.newBuilder(URI.create(registry.url() + "/subjects/" + subject
                        + "/versions")).build(), HttpResponse.BodyHandlers.ofString()).body();
                assertThat(versions).as(subject).isEqualTo("[1,2]");
                assertThat(registry.register(subject, ImageLabels.getClassSchema().toString())).as(subject)
                        .isNotEqualTo(before.get(subject));
            }
        }
    }
}
