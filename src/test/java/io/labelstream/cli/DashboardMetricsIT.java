package io.labelstream.cli;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.SyntheticImages;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageEvents;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import io.labelstream.testing.TestModels;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Every metric that the Grafana dashboard's panels and the alert rules ask for (read as
 * {@link DashboardAndAlertsTest} reads them) is exported by a running instance on the embedded broker.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DashboardMetricsIT {

    @TempDir
    Path dir;

    @Test
    void everyMetricThePanelsAndRulesUseIsExportedByARunningInstance() throws Exception {
        Set<String> used = new TreeSet<>();
        for (String expr : DashboardAndAlertsTest.dashboardExpressions()) {
            used.addAll(DashboardAndAlertsTest.metricNames(expr));
        }
        Set<String> fromRules = new TreeSet<>();
        for (String expr : DashboardAndAlertsTest.ruleExpressions(DashboardAndAlertsTest.yaml(DashboardAndAlertsTest.RULES))) {
            fromRules.addAll(DashboardAndAlertsTest.metricNames(expr));
        }
        used.addAll(fromRules);
        assertThat(used).as("the expressions were read").contains("labelstream_images_labeled_total",
                "labelstream_end_to_end_seconds_bucket", "kafka_consumer_fetch_manager_records_lag_max",
                "labelstream_ready", "labelstream_flagged_total", "labelstream_shadow_top1_agreement_ratio");
        used.removeAll(DashboardAndAlertsTest.FROM_PROMETHEUS);

        // An instance on the embedded broker with everything that makes a metric appear: a rule that fires on
        // every image, a shadow side model, a failure.
        Map<String, String> s = new HashMap<>();
        s.put("application.id", "dashboard-metrics");
        s.put("model.path", TestModels.resnet18().toString());
        s.put("state.dir", dir.resolve("state").toString());
        s.put("ops.port", "0");
        s.put("max.batch.size", "4");
        s.put("moderation.rules", "everything:index=0>=0");
        s.put("models.extra", "cand");
        s.put("models.cand.path", TestModels.resnet18().toString());
        s.put("models.cand.shadow", "true");
        LabelstreamConfig config = LabelstreamConfig.of(s);
        String metrics;
        try (RunningInstance instance = RunningInstance.start(config, true)) {
            Topic<ImageEvent> input = Topics.from(config).input();
            Map<String, Object> p = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, instance.bootstrapServers());
            try (var producer = new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < 6; i++) {
                    producer.send(input.record("m-" + i, ImageEvents.inline("m-" + i,
                            SyntheticImages.jpeg(160, 120, i), "image/jpeg").build()));
                }
                producer.send(input.record("m-bad", ImageEvents.inline("m-bad",
                        "not an image".getBytes(StandardCharsets.UTF_8), null).build()));
            }
            HttpClient http = HttpClient.newHttpClient();
            URI uri = URI.create("http://localhost:" + instance.opsPort() + "/metrics");
            AtomicReference<String> scraped = new AtomicReference<>("");
            await("6 images labeled and one failed, on /metrics").atMost(Duration.ofMinutes(3))
                    .pollInterval(Duration.ofMillis(500)).until(() -> {
                        String now = http.send(HttpRequest.newBuilder(uri).build(),
                                HttpResponse.BodyHandlers.ofString()).body();
                        scraped.set(now);
                        return now.contains("labelstream_images_labeled_total 6.0")
                                && now.contains("labelstream_images_failed_total{reason=\"UNSUPPORTED_FORMAT\"} 1.0");
                    });
            metrics = scraped.get();
        }
        Set<String> exported = new HashSet<>();
        for (String line : metrics.lines().toList()) {
            Matcher m = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)[{ ]").matcher(line);
            if (m.find()) {
                exported.add(m.group(1));
            }
        }
        assertThat(exported).as("labelled 6 images and failed one").contains("labelstream_images_labeled_total");
        assertThat(used).as("metrics used by the dashboard or the rules, not exported:").allSatisfy(name ->
                assertThat(exported).as(name).contains(name));
    }
}
