package io.labelstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The Grafana dashboard (deploy/grafana) and the alert rules (deploy/prometheus, and the PrometheusRule in
 * deploy/base) are well formed, and the rules pass promtool's check and unit tests (where promtool is installed:
 * Debian's prometheus package). That a running instance exports every metric they ask for is
 * {@link DashboardMetricsIT}'s.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class DashboardAndAlertsTest {

    private static final Path DASHBOARD = Path.of("deploy/grafana/labelstream-dashboard.json");
    static final Path RULES = Path.of("deploy/prometheus/labelstream-rules.yml");
    private static final Path RULE_TESTS = Path.of("deploy/prometheus/labelstream-rules.test.yml");
    private static final Path OPERATOR_RULE = Path.of("deploy/base/prometheusrule.yaml");
    /** Series Prometheus makes itself rather than scrapes. */
    static final Set<String> FROM_PROMETHEUS = Set.of("up");
    private static final Set<String> KEYWORDS = Set.of("by", "without", "on", "ignoring", "group_left",
            "group_right", "and", "or", "unless", "bool", "offset", "le");

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

    static List<String> dashboardExpressions() throws IOException {
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

    static List<String> ruleExpressions(JsonNode rules) {
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

    static JsonNode yaml(Path file) throws IOException {
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
