package io.labelstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
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

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Grafana dashboard (deploy/grafana) and the alert rules (deploy/prometheus, and the PrometheusRule in
 * deploy/base) ask only for metrics a running instance exports; the rules pass promtool's check and unit tests
 * (where promtool is installed: Debian's prometheus package).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DashboardAndAlertsTest {

    private static final Path DASHBOARD = Path.of("deploy/grafana/labelstream-dashboard.json");
    private static final Path RULES = Path.of("deploy/prometheus/labelstream-rules.yml");
    private static final Path RULE_TESTS = Path.of("deploy/prometheus/labelstream-rules.test.yml");
    private static final Path OPERATOR_RULE = Path.of("deploy/base/prometheusrule.yaml");
    /** Series Prometheus makes itself rather than scrapes. */
    private static final Set<String> FROM_PROMETHEUS = Set.of("up");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "and", "or", "unless", "bool", "offset", "le");

    @TempDir
    Path dir;

    @Test
    void everyMetricThePanelsAndRulesUseIsExportedByARunningInstance() throws Exception {
        Set<String> used = new TreeSet<>();
        for (String expr : dashboardExpressions()) {
            used.addAll(metricNames(expr));
        }
        Set<String> fromRules = new TreeSet<>();
        for (String expr : ruleExpressions(yaml(RULES))) {
            fromRules.addAll(metricNames(expr));
        }
        used.addAll(fromRules);
        assertThat(used).as("the expressions were read").contains("labelstream_images_labeled_total",
                "labelstream_end_to_end_seconds_bucket", "kafka_consumer_fetch_manager_records_lag_max",
                "labelstream_ready", "labelstream_flagged_total", "labelstream_shadow_top1_agreement_ratio");
        used.removeAll(FROM_PROMETHEUS);

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
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(3);
            do {
                Thread.sleep(500);
                metrics = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString()).body();
            } while (!(metrics.contains("labelstream_images_labeled_total 6.0")
                    && metrics.contains("labelstream_images_failed_total{reason=\"UNSUPPORTED_FORMAT\"} 1.0"))
                    && System.nanoTime() < deadline);
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

    @Test
    void theOperatorsRuleHoldsTheSameGroupsAndPromtoolPassesThem() throws Exception {
        assertThat(yaml(OPERATOR_RULE).get("spec")).isEqualTo(yaml(RULES));
        assertThat(yaml(OPERATOR_RULE).get("kind").asText()).isEqualTo("PrometheusRule");
        assertThat(Files.readString(Path.of("deploy/base/kustomization.yaml"))).contains("prometheusrule.yaml");
        boolean promtool = run(List.of("promtool", "--version")).exit() == 0;
        assumeTrue(promtool, "promtool not installed (apt install prometheus): rule checks skipped");
        Run check = run(List.of("promtool", "check", "rules", RULES.toString()));
        assertThat(check.exit()).as(check.output()).isZero();
        assertThat(check.output()).contains("SUCCESS: 5 rules found");
        Run unit = run(List.of("promtool", "test", "rules", RULE_TESTS.toString()));
        assertThat(unit.exit()).as(unit.output()).isZero();
    }

    @Test
    void theDashboardsPanelsAreWellFormed() throws Exception {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        Set<Integer> ids = new HashSet<>();
        for (JsonNode panel : dashboard.get("panels")) {
            assertThat(ids.add(panel.get("id").asInt())).as("unique panel id").isTrue();
            assertThat(panel.at("/datasource/uid").asText()).isEqualTo("${datasource}");
            assertThat(panel.get("targets")).as(panel.get("title").asText()).isNotEmpty()
                    .allSatisfy(t -> assertThat(t.get("expr").asText()).isNotBlank());
            JsonNode grid = panel.get("gridPos");
            assertThat(grid.get("x").asInt() + grid.get("w").asInt()).isLessThanOrEqualTo(24);
        }
    }

    private static List<String> dashboardExpressions() throws IOException {
        JsonNode dashboard = new ObjectMapper().readTree(DASHBOARD.toFile());
        List<String> exprs = new ArrayList<>();
        dashboard.get("panels").forEach(p -> p.get("targets").forEach(t -> exprs.add(t.get("expr").asText())));
        dashboard.at("/templating/list").forEach(v -> {
            if (v.has("definition")) {
                exprs.add(v.get("definition").asText());
            }
        });
        return exprs;
    }

    private static List<String> ruleExpressions(JsonNode rules) {
        List<String> exprs = new ArrayList<>();
        rules.get("groups").forEach(g -> g.get("rules").forEach(r -> exprs.add(r.get("expr").asText())));
        return exprs;
    }

    /**
     * The series names in a PromQL expression: what is left once strings, label matchers, ranges, grouping
     * clauses, functions, keywords and numbers are taken out.
     */
    static Set<String> metricNames(String expr) {
        String s = expr.replaceAll("label_values\\(([^,)]+),[^)]*\\)", "$1") // Grafana's: a metric, a label
                .replaceAll("\"(\\\\.|[^\"\\\\])*\"", "\"\"")
                .replaceAll("\\{[^}]*}", " ")
                .replaceAll("\\[[^]]*]", " ")
                .replaceAll("\\b(by|without|on|ignoring|group_left|group_right)\\s*\\([^)]*\\)", " ");
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("(?<![\\w$.])([a-zA-Z_:][a-zA-Z0-9_:]*)(\\s*\\()?").matcher(s);
        while (m.find()) {
            if (m.group(2) == null && !KEYWORDS.contains(m.group(1))) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    private static JsonNode yaml(Path file) throws IOException {
        return new ObjectMapper(new YAMLFactory()).readTree(file.toFile());
    }

    private record Run(int exit, String output) {
    }

    private static Run run(List<String> command) throws Exception {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            return new Run(-1, e.getMessage());
        }
        process.getOutputStream().close();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(2, TimeUnit.MINUTES)) {
            process.destroyForcibly();
            throw new AssertionError(command + " did not finish in 2 minutes");
        }
        return new Run(process.exitValue(), out);
    }
}
