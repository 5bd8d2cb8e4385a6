package io.labelstream.review;

import com.sun.net.httpserver.HttpServer;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.cli.CliTestAccess;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.ReviewDecision;
import io.labelstream.schema.Topics;
import io.labelstream.testing.ChildInstance;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;
import io.labelstream.testing.SchemaRegistryServer;
import io.labelstream.testing.TopicTraffic;
import org.apache.avro.generic.GenericRecord;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.OutputStream;
import java.io.Writer;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * {@code labelstream review} as a user starts it, {@code java -jar target/labelstream.jar review}, in its own JVM
 * against the embedded broker and a real schema registry (Apicurio), configured from a file, the environment and
 * the command line, with no {@code review.token}: it prints a generated token once, that token signs in and a wrong
 * one sees nothing; an image whose input record is a reference to a loopback HTTP server is fetched by the console
 * (fetch.* settings) and served as PNG; a decision is a Confluent-framed ImageReview under subject
 * {@code <reviews topic>-value}, read back by the registry alone; {@code review export} under the registry fetches
 * the referenced image too; SIGTERM stops the console.
 */
@Timeout(value = 10, unit = TimeUnit.MINUTES)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class ReviewCommandIT {

    private static final Duration WAIT = Duration.ofSeconds(90);
    private static final Pattern ADDRESS = Pattern.compile("^labelstream review console on (http://[^/]+)/ reading ");
    private static final Pattern TOKEN = Pattern.compile(
            "^review token \\(generated for this run; set review\\.token to keep one\\): (\\S+)$");

    @TempDir
    static Path dir;
    static SchemaRegistryServer registry;
    static EmbeddedKafka kafka;
    static HttpServer imageServer;
    static final AtomicInteger imageRequests = new AtomicInteger();
    static Map<String, String> settings;
    static ChildInstance console;
    static ConsoleHttp http;
    static String token;

    @BeforeAll
    static void startTheConsole() throws Exception {
        registry = SchemaRegistryServer.start();
        kafka = EmbeddedKafka.start();
        byte[] png = FlaggedTraffic.redCells(1, 0);
        imageServer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        imageServer.createContext("/red.png", ex -> {
            imageRequests.incrementAndGet();
            ex.getResponseHeaders().add("Content-Type", "image/png");
            ex.sendResponseHeaders(200, png.length);
            try (OutputStream out = ex.getResponseBody()) {
                out.write(png);
            }
        });
        imageServer.start();
        String host = "127.0.0.1:" + imageServer.getAddress().getPort();

        // The pipeline flags an inline image and one by reference, under the registry.
        settings = FlaggedTraffic.settings("review-command", kafka, dir);
        settings.put("schema.registry.url", registry.url());
        settings.put("fetch.http.hosts", host);
        LinkedHashMap<String, byte[]> events = new LinkedHashMap<>();
        events.put("inline", TopicTraffic.event("inline", FlaggedTraffic.redCells(2, 0)));
        events.put("by-reference", TopicTraffic.referenceEvent("by-reference", "http://" + host + "/red.png"));
        FlaggedTraffic.flag(settings, kafka, events);

        // As a user configures it: a file, the reviews topic from the environment, the cluster and the address on
        // the command line; review.token nowhere.
        Properties file = new Properties();
        file.putAll(settings);
        file.remove("bootstrap.servers");
        file.remove("reviews.topic");
        Path properties = dir.resolve("review.properties");
        try (Writer w = Files.newBufferedWriter(properties)) {
            file.store(w, null);
        }
        console = ChildInstance.jar("review-command", List.of("review", "--config", properties.toString(),
                        "--bootstrap-servers", kafka.bootstrapServers(), "-s", "review.bind=127.0.0.1:0"),
                Map.of("LABELSTREAM_REVIEWS_TOPIC", settings.get("reviews.topic")));
        http = new ConsoleHttp(console.awaitLine(ADDRESS, WAIT).group(1));
        token = console.awaitLine(TOKEN, WAIT).group(1);
    }

    @AfterAll
    static void stopAll() throws Exception {
        if (console != null) {
            console.close();
        }
        if (imageServer != null) {
            imageServer.stop(0);
        }
        if (kafka != null) {
            kafka.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    @Test
    @Order(1)
    void thePrintedTokenSignsInAWrongOneSeesNothingAndAReferencedImageIsServed() throws Exception {
        assertThat(console.log().split(Pattern.quote(token), -1)).as("the token, printed once:%n%s", console.log())
                .hasSize(2);
        assertThat(registry.latestSchema(settings.get("reviews.topic") + "-value"))
                .as("registered at start-up, before any decision").isEqualTo(ImageReview.getClassSchema());

        HttpResponse<String> wrong = http.post("/login", null, http.base(), Map.of("token", token + "x",
                "reviewer", "mallory"));
        assertThat(wrong.statusCode()).isEqualTo(401);
        assertThat(wrong.headers().firstValue("Set-Cookie")).isEmpty();
        assertThat(wrong.body()).doesNotContain("data-id");
        assertThat(http.get("/api/items", null).statusCode()).isEqualTo(401);
        assertThat(http.getBytes("/images/by-reference", null).statusCode()).isEqualTo(401);

        String ana = http.signIn(token, "ana");
        await("both flagged images").atMost(WAIT).untilAsserted(() -> assertThat(http.get("/api/items", ana).body())
                .isEqualTo("{\"depth\":2,\"ids\":[\"inline\",\"by-reference\"]}"));
        assertThat(http.get("/", ana).body()).contains("<article data-id=\"by-reference\"><img src=\"/images/"
                + "by-reference");

        int fetchedBefore = imageRequests.get();
        HttpResponse<byte[]> image = http.getBytes("/images/by-reference", ana);
        assertThat(image.statusCode()).as(new String(image.body(), StandardCharsets.UTF_8)).isEqualTo(200);
        assertThat(image.headers().firstValue("Content-Type")).contains("image/png");
        BufferedImage png = ImageIO.read(new ByteArrayInputStream(image.body()));
        assertThat(png.getWidth()).isEqualTo(400);
        assertThat(png.getHeight()).isEqualTo(300);
        assertThat(imageRequests.get()).as("the console fetched the reference itself").isGreaterThan(fetchedBefore);
    }

    @Test
    @Order(2)
    void aDecisionIsAConfluentFramedImageReviewThatTheRegistryAloneReadsBack() throws Exception {
        String bo = http.signIn(token, "bo");
        assertThat(http.post("/decide", bo, http.base(), Map.of("id", "inline", "decision", "RELABELED",
                "label", "crimson")).statusCode()).isEqualTo(303);

        String topic = settings.get("reviews.topic");
        List<ConsumerRecord<byte[], byte[]>> records = new TopicTraffic(kafka.bootstrapServers()).readAll(topic);
        assertThat(records).hasSize(1);
        byte[] value = records.get(0).value();
        assertThat(new String(records.get(0).key(), StandardCharsets.UTF_8)).isEqualTo("inline");
        assertThat(value[0]).as("Confluent magic byte").isZero();
        int id = ByteBuffer.wrap(value, 1, 4).getInt();
        String subject = topic + "-value";
        assertThat(registry.latestSchema(subject)).isEqualTo(ImageReview.getClassSchema());
        assertThat(registry.register(subject, ImageReview.getClassSchema().toString()))
                .as("the id ImageReview's schema has under " + subject).isEqualTo(id);

        GenericRecord read = registry.read(value);
        assertThat(read.get("id").toString()).isEqualTo("inline");
        assertThat(read.get("decision").toString()).isEqualTo("RELABELED");
        assertThat(read.get("label").toString()).isEqualTo("crimson");
        assertThat(read.get("reviewer").toString()).isEqualTo("bo");
        assertThat(read.get("rule").toString()).isEqualTo("reds");

        try (Topics topics = Topics.forConfig(LabelstreamConfig.of(settings))) {
            ImageReview review = topics.reviews().value(records.get(0));
            assertThat(review.getDecision()).isEqualTo(ReviewDecision.RELABELED);
            assertThat(review.getLabel()).isEqualTo("crimson");
            assertThat(review.getReviewer()).isEqualTo("bo");
        }
    }

    @Test
    @Order(3)
    void reviewExportUnderTheRegistryFetchesTheReferencedImageToo() throws Exception {
        String cy = http.signIn(token, "cy");
        assertThat(http.post("/decide", cy, http.base(), Map.of("id", "by-reference", "decision", "CONFIRMED"))
                .statusCode()).isEqualTo(303);
        Path exported = dir.resolve("exported");
        int fetchedBefore = imageRequests.get();
        Captured export = ConsoleCapture.run(() -> CliTestAccess.execute(FlaggedTraffic.commandLine(settings,
                "review", "export", "--out", exported.toString())));
        assertThat(export.exitCode()).as(export.err()).isZero();
        assertThat(export.out()).contains("exported 2 reviewed images");
        assertThat(imageRequests.get()).as("the export fetched the reference").isGreaterThan(fetchedBefore);
        for (Path png : List.of(exported.resolve("crimson/inline.png"), exported.resolve("red/by-reference.png"))) {
            BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image).as(png.toString()).isNotNull();
            assertThat(image.getWidth()).isEqualTo(400);
        }
    }

    @Test
    @Order(4)
    void sigtermStopsTheConsole() throws Exception {
        assertThat(console.terminate(30)).as("exit code after SIGTERM; output:%n%s", console.log())
                .isNotEqualTo(-1);
        assertThat(console.isAlive()).isFalse();
    }
}
