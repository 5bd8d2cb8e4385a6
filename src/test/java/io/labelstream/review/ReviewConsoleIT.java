package io.labelstream.review;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.broker.KafkaClients;
import io.labelstream.cli.CliTestAccess;
import io.labelstream.model.LabelSet;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.SessionSettings;
import io.labelstream.model.adapt.LabeledImages;
import io.labelstream.schema.Topics;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.ReviewDecision;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;
import io.labelstream.testing.TopicTraffic;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The console over HTTP against the real broker and real flagged records: only a session from the token sees
 * anything, each decision is one record on the reviews topic read_committed, a second decision and a cross-site
 * POST are refused, the export is the folder layout {@code model adapt --train} reads, and a console started
 * afterwards knows what was decided. Decisions exported by {@code review export} and adapted by {@code model adapt},
 * both as a user runs them, give a model whose classes are the exported folders.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
class ReviewConsoleIT {

    private static final String TOKEN = "the-review-token";
    private static final List<String> RED = List.of("red-0", "red-1", "red-2", "red-3");

    @TempDir
    static Path dir;
    static EmbeddedKafka kafka;
    static Map<String, String> settings;

    private final HttpClient http = HttpClient.newHttpClient();

    @BeforeAll
    static void flagImages() throws Exception {
        kafka = EmbeddedKafka.start();
        settings = FlaggedTraffic.flagged("review-it", kafka, dir, RED);
    }

    @AfterAll
    static void stopBroker() {
        if (kafka != null) {
            kafka.close();
        }
    }

    private ReviewConsole console() throws Exception {
        return console(settings);
    }

    private static ReviewConsole console(Map<String, String> pipelineSettings) throws Exception {
        return ConsoleHttp.start(pipelineSettings, TOKEN, Map.of());
    }

    private static String base(ReviewConsole console) {
        return ConsoleHttp.of(console).base();
    }

    private HttpResponse<String> get(ReviewConsole console, String path, String cookie) throws Exception {
        return ConsoleHttp.of(console).get(path, cookie);
    }

    private HttpResponse<String> post(ReviewConsole console, String path, String cookie, String origin,
                                      Map<String, String> form) throws Exception {
        return ConsoleHttp.of(console).post(path, cookie, origin, form);
    }

    private String signIn(ReviewConsole console, String reviewer) throws Exception {
        return ConsoleHttp.of(console).signIn(TOKEN, reviewer);
    }

    @Test
    void aSessionUnusedForReviewSessionTimeoutIsNoSession() throws Exception {
        try (ReviewConsole console = ConsoleHttp.start(settings, TOKEN, Map.of("review.session.timeout", "PT10S"))) {
            String dee = signIn(console, "dee");
            assertThat(get(console, "/api/items", dee).statusCode()).isEqualTo(200);
            // The page's poll does not count as use: the session ends while it polls.
            await().atMost(Duration.ofMinutes(1)).pollInterval(Duration.ofMillis(200))
                    .until(() -> get(console, "/api/items", dee).statusCode() == 401);
            HttpResponse<String> page = get(console, "/", dee);
            assertThat(page.statusCode()).isEqualTo(303);
            assertThat(page.headers().firstValue("Location")).contains("/login");
            assertThat(post(console, "/decide", dee, base(console), Map.of("id", "red-3", "decision", "DISMISSED"))
                    .statusCode()).isEqualTo(401);
            assertThat(get(console, "/api/items", signIn(console, "dee")).statusCode()).isEqualTo(200);
        }
    }

    @Test
    void reviewersDecideEachWayOnceAndTheDecisionsAreOnTheReviewsTopic() throws Exception {
        try (ReviewConsole console = console()) {
            // Without a session, or with a wrong token, nothing is shown.
            assertThat(get(console, "/", null).statusCode()).isEqualTo(303);
            assertThat(get(console, "/api/items", null).statusCode()).isEqualTo(401);
            assertThat(get(console, "/images/red-0", null).statusCode()).isEqualTo(401);
            assertThat(get(console, "/metrics", null).statusCode()).isEqualTo(401);
            HttpResponse<String> wrong = post(console, "/login", null, null, Map.of("token", "guess",
                    "reviewer", "mallory"));
            assertThat(wrong.statusCode()).isEqualTo(401);
            assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();
            assertThat(wrong.body()).doesNotContain("data-id");
            assertThat(get(console, "/api/items", "labelstream_review=" + TOKEN).statusCode()).isEqualTo(401);
            assertThat(get(console, "/login", null).body()).contains("<input name=\"token\"");

            String ana = signIn(console, "ana");
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(get(console, "/api/items", ana)
                    .body()).isEqualTo("{\"depth\":4,\"ids\":[\"red-0\",\"red-1\",\"red-2\",\"red-3\"]}"));
            HttpResponse<String> page = get(console, "/", ana);
            assertThat(page.headers().firstValue("Content-Security-Policy")).contains(
                    ReviewServer.CONTENT_SECURITY_POLICY);
            for (String id : RED) {
                assertThat(page.body()).contains("<article data-id=\"" + id + "\"><img src=\"/images/" + id);
            }
            assertThat(page.body()).doesNotContain("data-id=\"green\"").contains("Rule <b>reds</b> fired on <b>red")
                    .contains(">Confirm</button>").contains(">Dismiss</button>").contains(">Relabel</button>")
                    .contains("<input name=\"label\" list=\"labels\"").contains("<option value=\"green\">")
                    .contains("Model colour");
            HttpResponse<byte[]> image = http.send(HttpRequest.newBuilder(URI.create(base(console)
                    + "/images/red-0")).header("Cookie", ana).build(), HttpResponse.BodyHandlers.ofByteArray());
            assertThat(image.statusCode()).isEqualTo(200);
            assertThat(image.headers().firstValue("Content-Type")).contains("image/png");
            BufferedImage png = ImageIO.read(new ByteArrayInputStream(image.body()));
            assertThat(png.getWidth()).isEqualTo(400);
            assertThat(png.getHeight()).isEqualTo(300);

            // A cross-site POST is refused and changes nothing.
            HttpResponse<String> forged = post(console, "/decide", ana, "http://evil.example",
                    Map.of("id", "red-0", "decision", "DISMISSED"));
            assertThat(forged.statusCode()).isEqualTo(403);
            HttpResponse<String> oversized = post(console, "/decide", ana, base(console),
                    Map.of("id", "red-0", "decision", "RELABELED", "label", "x".repeat(20_000)));
            assertThat(oversized.statusCode()).as(oversized.body()).isEqualTo(413);
            HttpRequest.Builder crossSite = HttpRequest.newBuilder(URI.create(base(console) + "/decide"))
                    .header("Cookie", ana).header("Sec-Fetch-Site", "cross-site")
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .POST(HttpRequest.BodyPublishers.ofString("id=red-0&decision=DISMISSED"));
            assertThat(http.send(crossSite.build(), HttpResponse.BodyHandlers.ofString()).statusCode())
                    .isEqualTo(403);
            assertThat(post(console, "/decide", null, base(console), Map.of("id", "red-0",
                    "decision", "DISMISSED")).statusCode()).as("no session").isEqualTo(401);

            String own = base(console);
            assertThat(post(console, "/decide", ana, own, Map.of("id", "red-0", "decision", "CONFIRMED"))
                    .statusCode()).isEqualTo(303);
            assertThat(post(console, "/decide", ana, own, Map.of("id", "red-1", "decision", "DISMISSED"))
                    .statusCode()).isEqualTo(303);
            assertThat(post(console, "/decide", ana, own, Map.of("id", "red-2", "decision", "RELABELED",
                    "label", "")).statusCode()).as("Relabel without a label").isEqualTo(400);
            String bo = signIn(console, "bo");
            assertThat(post(console, "/decide", bo, own, Map.of("id", "red-2", "decision", "RELABELED",
                    "label", "crimson")).statusCode()).isEqualTo(303);
            HttpResponse<String> second = post(console, "/decide", bo, own, Map.of("id", "red-0",
                    "decision", "DISMISSED"));
            assertThat(second.statusCode()).isEqualTo(409);
            assertThat(second.body()).contains("red-0 was already decided by ana (CONFIRMED red)");
            assertThat(get(console, "/api/items", bo).body()).isEqualTo("{\"depth\":1,\"ids\":[\"red-3\"]}");
            assertThat(get(console, "/images/red-0", bo).statusCode()).as("decided: gone").isEqualTo(404);

            List<ConsumerRecord<byte[], byte[]>> records = new TopicTraffic(kafka.bootstrapServers())
                    .readAll(settings.get("reviews.topic"));
            Map<String, ImageReview> reviews = new HashMap<>();
            for (ConsumerRecord<byte[], byte[]> r : records) {
                ImageReview review = AvroSerdes.imageReview().decode(r.value());
                assertThat(new String(r.key(), StandardCharsets.UTF_8)).isEqualTo(review.getId());
                assertThat(reviews.put(review.getId(), review)).as("one record per image").isNull();
            }
            assertThat(reviews).containsOnlyKeys("red-0", "red-1", "red-2");
            assertThat(reviews.get("red-0").getDecision()).isEqualTo(ReviewDecision.CONFIRMED);
            assertThat(reviews.get("red-0").getReviewer()).isEqualTo("ana");
            assertThat(reviews.get("red-0").getRule()).isEqualTo("reds");
            assertThat(reviews.get("red-0").getModel().getName()).isEqualTo("colour");
            assertThat(reviews.get("red-0").getSource().getTopic()).isEqualTo(settings.get("input.topics"));
            assertThat(reviews.get("red-1").getDecision()).isEqualTo(ReviewDecision.DISMISSED);
            assertThat(reviews.get("red-2").getDecision()).isEqualTo(ReviewDecision.RELABELED);
            assertThat(reviews.get("red-2").getLabel()).isEqualTo("crimson");
            assertThat(reviews.get("red-2").getReviewer()).isEqualTo("bo");

            assertThat(get(console, "/metrics", ana).body()).contains("labelstream_review_queue_depth 1.0")
                    .contains("labelstream_review_rule_precision{rule=\"reds\"} 0.5");
            HttpResponse<String> scraped = http.send(HttpRequest.newBuilder(URI.create(own + "/metrics"))
                    .header("Authorization", "Bearer " + TOKEN).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(scraped.body()).contains("labelstream_review_decisions_total{decision=\"RELABELED\","
                    + "rule=\"reds\"} 1.0");
        }

        // Exported, the reviewed images are one folder per label, as model adapt --train reads them.
        LabelstreamConfig config = LabelstreamConfig.of(settings);
        Path exported = dir.resolve("exported");
        try (Topics topics = Topics.forConfig(config)) {
            KafkaClients clients = KafkaClients.of(config);
            ReviewExport.Summary summary = ReviewExport.export(clients, topics,
                    ReviewImages.from(config, clients, topics), exported, "other");
            assertThat(summary.missing()).isEmpty();
            assertThat(summary.imagesByLabel()).isEqualTo(Map.of("red", 1, "other", 1, "crimson", 1));
        }
        LabeledImages training = LabeledImages.read(exported, null, "--train");
        assertThat(training.labels()).containsExactly("crimson", "other", "red");
        assertThat(training.files()).extracting(f -> f.getFileName().toString())
                .containsExactly("red-2.png", "red-1.png", "red-0.png");
        assertThat(ImageIO.read(training.files().get(0).toFile()).getWidth()).isEqualTo(400);

        // A console started afterwards reads the decisions back and shows only what is left.
        try (ReviewConsole restarted = console()) {
            String cy = signIn(restarted, "cy");
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(get(restarted, "/api/items", cy)
                    .body()).isEqualTo("{\"depth\":1,\"ids\":[\"red-3\"]}"));
            HttpResponse<String> late = post(restarted, "/decide", cy, base(restarted), Map.of("id", "red-1",
                    "decision", "CONFIRMED"));
            assertThat(late.statusCode()).isEqualTo(409);
            assertThat(late.body()).contains("red-1 was already decided by ana (DISMISSED)");
        }
    }

    @Test
    void decisionsExportedByTheCommandAdaptIntoAModelWhoseLabelsAreTheExportedFolders() throws Exception {
        // Two images per class, as adapt's holdout needs at least two. The more red cells an image has, the higher
        // the colour model's red feature (the input of its classifier, which adapt trains on), so the classes the
        // reviewers make below lie apart where the new head looks.
        Map<String, String> s = FlaggedTraffic.settings("review-adapt", kafka, dir);
        LinkedHashMap<String, byte[]> events = new LinkedHashMap<>();
        for (int cells = 1; cells <= 3; cells++) {
            for (int i = 0; i < 2; i++) {
                String id = "cells" + cells + "-" + i;
                events.put(id, TopicTraffic.event(id, FlaggedTraffic.redCells(cells, i)));
            }
        }
        FlaggedTraffic.flag(s, kafka, events);
        try (ReviewConsole console = console(s)) {
            String ana = signIn(console, "ana");
            await().atMost(Duration.ofMinutes(1)).untilAsserted(() -> assertThat(get(console, "/api/items", ana)
                    .body()).startsWith("{\"depth\":6,"));
            String own = base(console);
            for (int i = 0; i < 2; i++) {
                assertThat(post(console, "/decide", ana, own, Map.of("id", "cells1-" + i, "decision", "CONFIRMED"))
                        .statusCode()).isEqualTo(303);
                assertThat(post(console, "/decide", ana, own, Map.of("id", "cells2-" + i, "decision", "RELABELED",
                        "label", "crimson")).statusCode()).isEqualTo(303);
                assertThat(post(console, "/decide", ana, own, Map.of("id", "cells3-" + i, "decision", "DISMISSED"))
                        .statusCode()).isEqualTo(303);
            }
        }

        Path exported = dir.resolve("adapt-exported");
        Captured exporting = ConsoleCapture.run(() -> CliTestAccess.execute(FlaggedTraffic.commandLine(s, "review",
                "export", "--out", exported.toString(), "--negative-label", "other")));
        assertThat(exporting.exitCode()).as(exporting.err()).isZero();
        assertThat(exporting.out()).contains("exported 6 reviewed images from review-adapt-reviews");
        List<String> folders;
        try (var listing = Files.list(exported)) {
            folders = listing.map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(folders).containsExactly("crimson", "other", "red");

        Path model = dir.resolve("adapted.onnx");
        Captured adapting = ConsoleCapture.run(() -> CliTestAccess.execute("model", "adapt", "--model",
                s.get("model.path"), "--train", exported.toString(), "--out", model.toString()));
        assertThat(adapting.exitCode()).as(adapting.err()).isZero();
        assertThat(adapting.out()).contains("trained on 6 images").contains("crimson 2, other 2, red 2");
        Path labels = dir.resolve("adapted.labels.txt");
        LabelSet loaded = LoadedModel.load(model, labels, null, SessionSettings.defaults()).labels();
        List<String> names = new ArrayList<>();
        for (int i = 0; i < loaded.size(); i++) {
            names.add(loaded.name(i));
        }
        assertThat(names).isEqualTo(folders);

        // And it tells the reviewers' classes apart: a relabeled image is crimson to it.
        Captured classify = ConsoleCapture.run(() -> CliTestAccess.execute("classify", "--model", model.toString(),
                "--labels", labels.toString(), "--top", "1", exported.resolve("crimson/cells2-0.png").toString()));
        assertThat(classify.exitCode()).as(classify.err()).isZero();
        assertThat(classify.out()).containsPattern("cells2-0\\.png +crimson \\(");
    }
}
