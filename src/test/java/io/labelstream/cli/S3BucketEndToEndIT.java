package io.labelstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.stream.Pipeline;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;
import io.labelstream.testing.S3Server;
import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A bucket tagged end to end: images put in a real S3 API server (s3proxy), `produce s3://…` publishing references
 * page by page (resumed with --start-after), a pipeline on a real broker fetching them through the AWS SDK with
 * credentials from its default chain, and `tail` reading every label and failure back.
 */
@Timeout(value = 6, unit = TimeUnit.MINUTES)
class S3BucketEndToEndIT {

    @TempDir
    Path dir;

    @Test
    void aBucketIsTaggedThroughReferencesAndAResumedListingPublishesOnlyWhatFollows() throws Exception {
        String accessKey = System.getProperty("aws.accessKeyId");
        String secretKey = System.getProperty("aws.secretAccessKey");
        // The SDK's default chain reads these first: the same path as AWS_ACCESS_KEY_ID in a container.
        System.setProperty("aws.accessKeyId", S3Server.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", S3Server.SECRET_KEY);
        try (S3Server s3 = S3Server.start().bucket("photos");
             EmbeddedKafka kafka = EmbeddedKafka.start()) {
            for (int i = 0; i < 25; i++) {
                s3.put("photos", String.format("2026/p%02d.jpg", i), SyntheticImages.jpeg(320, 240, i));
            }
            s3.put("photos", "2026/notes.txt", "not an image, not listed".getBytes(StandardCharsets.UTF_8));
            s3.put("photos", "2026/zz-broken.jpg", "not a JPEG at all".getBytes(StandardCharsets.UTF_8));
            s3.put("photos", "private/x.jpg", SyntheticImages.jpeg(64, 48, 1));
            List<String> s3Settings = List.of("-s", "fetch.s3.endpoint=" + s3.endpoint(), "-s",
                    "fetch.s3.path.style=true", "-s", "fetch.s3.region=us-east-1", "-s", "fetch.s3.buckets=photos/2026");
            Map<String, String> s = new HashMap<>();
            s.put("bootstrap.servers", kafka.bootstrapServers());
            s.put("application.id", "s3-bucket");
            s.put("model.path", TestModels.resnet18().toString());
            s.put("state.dir", dir.resolve("state").toString());
            s.put("fetch.s3.buckets", "photos/2026");
            s.put("fetch.s3.endpoint", s3.endpoint().toString());
            s.put("fetch.s3.path.style", "true");
            s.put("fetch.s3.region", "us-east-1");
            s.put("fetch.timeout.ms", "20000");
            LabelstreamConfig config = LabelstreamConfig.of(s);
            try (LabelingEngine engine = EngineFactory.create(config)) {
                Pipeline pipeline = Pipeline.start(config, kafka.bootstrapServers(), engine);
                try {
                    assertThat(pipeline.awaitRunning(Duration.ofSeconds(60))).isTrue();
                    Captured resumed = produce(kafka, s3Settings, "--page-size", "4", "--start-after", "2026/p09.jpg",
                            "s3://photos/2026/");
                    assertThat(resumed.exitCode()).as(resumed.err()).isZero();
                    assertThat(resumed.err()).contains("Published 16 image(s)")
                            .contains("s3://photos/2026/: 16 object(s) listed")
                            .contains("last image published: 2026/zz-broken.jpg");
                    Captured first = produce(kafka, s3Settings, "--page-size", "3", "s3://photos/2026/p0");
                    assertThat(first.exitCode()).as(first.err()).isZero();
                    assertThat(first.err()).contains("Published 10 image(s)");
                    Captured outside = produce(kafka, s3Settings, "s3://photos/private/");
                    assertThat(outside.exitCode()).as(outside.err()).isZero();
                    assertThat(outside.err()).contains("warning: s3://photos/private/ is not inside fetch.s3.buckets")
                            .contains("Published 1 image(s)");

                    Captured tail = ConsoleCapture.run(() -> Main.execute("tail", "--bootstrap-servers",
                            kafka.bootstrapServers(), "--failures", "--from-beginning", "--json", "--max", "27",
                            "--idle-timeout", "PT120S"));
                    assertThat(tail.exitCode()).as(tail.err()).isZero();
                    ObjectMapper mapper = new ObjectMapper();
                    List<JsonNode> lines = new ArrayList<>();
                    for (String line : tail.out().lines().toList()) {
                        lines.add(mapper.readTree(line));
                    }
                    assertThat(lines).filteredOn(n -> n.get("topic").asText().equals("labels"))
                            .extracting(n -> n.get("id").asText())
                            .containsExactlyInAnyOrderElementsOf(IntStream.range(0, 25)
                                    .mapToObj(i -> String.format("s3://photos/2026/p%02d.jpg", i)).toList());
                    assertThat(lines).filteredOn(n -> n.get("topic").asText().equals("failures"))
                            .extracting(n -> n.get("id").asText() + " " + n.get("reason").asText())
                            .containsExactlyInAnyOrder("s3://photos/2026/zz-broken.jpg UNSUPPORTED_FORMAT",
                                    "s3://photos/private/x.jpg REFERENCE_REFUSED");
                } finally {
                    pipeline.close();
                }
            }
        } finally {
            restore("aws.accessKeyId", accessKey);
            restore("aws.secretAccessKey", secretKey);
        }
    }

    private static Captured produce(EmbeddedKafka kafka, List<String> settings, String... args) {
        List<String> all = new ArrayList<>(List.of("produce", "--bootstrap-servers", kafka.bootstrapServers()));
        all.addAll(settings);
        all.addAll(List.of(args));
        return ConsoleCapture.run(() -> Main.execute(all.toArray(String[]::new)));
    }

    private static void restore(String property, String value) {
        if (value == null) {
            System.clearProperty(property);
        } else {
            System.setProperty(property, value);
        }
    }
}
