package io.labelstream.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Renders deploy/ with {@code kubectl kustomize} (skipped where kubectl is absent) and checks what would break
 * in a cluster: selectors that miss their pods, probes on the wrong path or port, settings labelstream would
 * refuse, a scaler that outgrows the input's partitions.
 */
class DeployManifestsTest {

    @ParameterizedTest
    @ValueSource(strings = {"cpu", "gpu"})
    void overlaysRenderToManifestsThatFitTogether(String overlay) throws Exception {
        Map<String, JsonNode> byKind = render("deploy/overlays/" + overlay);
        JsonNode deployment = byKind.get("Deployment");
        JsonNode pod = deployment.at("/spec/template");
        JsonNode podLabels = pod.at("/metadata/labels");
        assertSubset(deployment.at("/spec/selector/matchLabels"), podLabels, "Deployment selector");
        assertSubset(byKind.get("Service").at("/spec/selector"), podLabels, "Service selector");
        assertSubset(byKind.get("PodDisruptionBudget").at("/spec/selector/matchLabels"), podLabels, "PDB selector");

        // Every ConfigMap key is a LABELSTREAM_* variable labelstream accepts, with a valid value.
        Map<String, String> env = new HashMap<>();
        byKind.get("ConfigMap").get("data").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        LabelstreamConfig config = LabelstreamConfig.load(null, env, Map.of());

        JsonNode container = pod.at("/spec/containers/0");
        // run stops at start-up without a cluster (a crash loop, not a ready pod that labels nothing).
        assertThat(container.at("/args/0").asText()).isEqualTo("run");
        assertThat(container.at("/args").toString()).doesNotContain("--embedded-broker");
        assertThat(config.hasBootstrapServers()).as("LABELSTREAM_BOOTSTRAP_SERVERS in the ConfigMap").isTrue();
        assertThat(container.at("/envFrom/0/configMapRef/name").asText())
                .isEqualTo(byKind.get("ConfigMap").at("/metadata/name").asText());
        int opsPort = config.get(Settings.OPS_PORT);
        assertThat(container.at("/ports/0/containerPort").asInt()).isEqualTo(opsPort);
        String portName = container.at("/ports/0/name").asText();
        assertThat(portName).as("the ops port is named, so probes and the Service can refer to it").isNotEmpty();
        assertThat(container.at("/livenessProbe/httpGet/path").asText()).isEqualTo("/health/live");
        assertThat(container.at("/readinessProbe/httpGet/path").asText()).isEqualTo("/health/ready");
        assertThat(container.at("/livenessProbe/httpGet/port").asText()).isEqualTo(portName);
        assertThat(container.at("/readinessProbe/httpGet/port").asText()).isEqualTo(portName);
        assertThat(byKind.get("Service").at("/spec/ports/0/targetPort").asText()).isEqualTo(portName);
        assertThat(pod.at("/spec/terminationGracePeriodSeconds").asLong() * 1000)
                .as("grace period outlasts shutdown.timeout.ms").isGreaterThan(config.get(Settings.SHUTDOWN_TIMEOUT_MS));

        JsonNode scaler = byKind.get("ScaledObject");
        assertThat(scaler.at("/spec/scaleTargetRef/name").asText()).isEqualTo(deployment.at("/metadata/name").asText());
        assertThat(scaler.at("/spec/maxReplicaCount").asInt()).as("no more replicas than input partitions")
                .isEqualTo(config.get(Settings.TOPICS_PARTITIONS));
        assertThat(scaler.at("/spec/triggers/0/metadata/consumerGroup").asText())
                .isEqualTo(config.get(Settings.APPLICATION_ID));
        assertThat(scaler.at("/spec/triggers/0/metadata/topic").asText())
                .isEqualTo(config.get(Settings.INPUT_TOPICS).get(0));

        if (overlay.equals("gpu")) {
            assertThat(container.at("/resources/limits/nvidia.com~1gpu").asInt()).isEqualTo(1);
            assertThat(pod.at("/spec/tolerations/0/key").asText()).isEqualTo("nvidia.com/gpu");
            assertThat(config.get(Settings.MODEL_PROVIDER)).startsWith("cuda");
            assertThat(container.at("/image").asText()).endsWith("-gpu");
        } else {
            assertThat(container.at("/resources/limits/nvidia.com~1gpu").isMissingNode()).isTrue();
            assertThat(config.get(Settings.MODEL_PROVIDER)).isEqualTo("cpu");
        }
    }

    private static void assertSubset(JsonNode selector, JsonNode labels, String what) {
        assertThat(selector.size()).as(what + " is not empty").isPositive();
        selector.fields().forEachRemaining(e ->
                assertThat(labels.path(e.getKey()).asText()).as(what + " " + e.getKey()).isEqualTo(e.getValue().asText()));
    }

    private static Map<String, JsonNode> render(String dir) throws IOException, InterruptedException {
        Process process;
        try {
            process = new ProcessBuilder("kubectl", "kustomize", dir).redirectErrorStream(false).start();
        } catch (IOException e) {
            Assumptions.abort("kubectl is not installed: cannot render " + dir);
            return Map.of();
        }
        byte[] out = process.getInputStream().readAllBytes();
        String err = new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(process.exitValue()).as(err).isZero();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        Map<String, JsonNode> byKind = new HashMap<>();
        List<String> kinds = new ArrayList<>();
        for (Iterator<JsonNode> docs = yaml.readerFor(JsonNode.class).readValues(out); docs.hasNext(); ) {
            JsonNode doc = docs.next();
            kinds.add(doc.get("kind").asText());
            byKind.put(doc.get("kind").asText(), doc);
        }
        assertThat(kinds).containsExactlyInAnyOrder("ConfigMap", "Deployment", "Service", "PodDisruptionBudget",
                "ScaledObject", "PrometheusRule");
        return byKind;
    }
}
