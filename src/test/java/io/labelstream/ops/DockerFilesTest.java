package io.labelstream.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What can be checked of docker/ without a Docker engine (these machines have none; nothing here was built). */
class DockerFilesTest {

    @ParameterizedTest
    @ValueSource(strings = {"docker/Dockerfile", "docker/Dockerfile.gpu"})
    void everyFileADockerfileCopiesExistsAndTheImageRunsAsNonRootWithAHealthCheck(String dockerfile) throws Exception {
        List<String> lines = Files.readAllLines(Path.of(dockerfile));
        long stages = lines.stream().filter(l -> l.startsWith("FROM ")).count();
        assertThat(stages).as("multi-stage build").isGreaterThanOrEqualTo(2);
        for (String line : lines) {
            if (line.startsWith("COPY ") && !line.contains("--from=")) {
                String[] parts = line.substring(5).trim().split("\\s+");
                for (int i = 0; i < parts.length - 1; i++) {
                    assertThat(Path.of(parts[i])).as("%s copies %s", dockerfile, parts[i]).exists();
                }
            }
        }
        assertThat(lines).anySatisfy(l -> assertThat(l).matches("USER \\d+"));
        String text = String.join("\n", lines);
        // curl rather than a JVM per check; it asks the port the image exposes.
        String exposed = lines.stream().filter(l -> l.startsWith("EXPOSE ")).findFirst().orElseThrow().substring(7).trim();
        assertThat(text).containsPattern("(?s)HEALTHCHECK [^\\n]*\\\\\\n\\s*CMD \\[\"curl\", \"-fsS\", [^\\n]*\"http://127\\.0\\.0\\.1:"
                + exposed + "/health/ready\"\\]");
        assertThat(text).contains("labelstream.jar");
        String entrypoint = lines.stream().filter(l -> l.startsWith("ENTRYPOINT ")).findFirst().orElseThrow();
        for (String option : ContainerJvm.OPTIONS.split(" ")) {
            assertThat(entrypoint).as("the benchmark measures labelstream with these options").contains('"' + option + '"');
        }
        // The compiler directives the benchmark loads too, from the file the runtime stage copies in; the JVM's
        // message that it added them goes to standard error (jitOptions).
        assertThat(entrypoint).contains(ContainerJvm.jitOptions(ContainerJvm.IMAGE_DIRECTIVES).stream()
                .map(o -> '"' + o + '"').collect(java.util.stream.Collectors.joining(", ")));
        assertThat(lines).contains("COPY --from=build /src/src/main/resources/io/labelstream/ops/"
                + ContainerJvm.DIRECTIVES_RESOURCE + " " + ContainerJvm.IMAGE_DIRECTIVES);
        assertThat(Path.of("src/main/resources/io/labelstream/ops", ContainerJvm.DIRECTIVES_RESOURCE)).exists();
        // The runtime stage installs libjpeg-turbo and insists on it, so a broken image stops at start-up.
        String runtime = text.substring(text.lastIndexOf("\nFROM "));
        assertThat(runtime).containsPattern("apt-get install [^\\n]*libturbojpeg")
                .containsPattern("apt-get install [^\\n]*\\bcurl\\b")
                .contains("ENV LABELSTREAM_IMAGE_JPEG_DECODER=libjpeg-turbo");
        // The image runs on the cluster it is given (run without one stops at start-up); it never makes its own.
        assertThat(text).doesNotContain("--embedded-broker").doesNotContain("LABELSTREAM_BOOTSTRAP_SERVERS=");
        if (dockerfile.endsWith(".gpu")) {
            assertThat(lines).anySatisfy(l -> assertThat(l).startsWith("FROM nvidia/cuda:12").contains("cudnn"));
            assertThat(lines).anySatisfy(l -> assertThat(l).contains("-Pgpu"));
        }
    }

    @Test
    void theDeploymentStartsTheJvmWithTheOptionsTheBenchmarkMeasures() throws Exception {
        JsonNode deployment = new ObjectMapper(new YAMLFactory()).readTree(Path.of("deploy/base/deployment.yaml").toFile());
        String toolOptions = null;
        for (JsonNode env : deployment.at("/spec/template/spec/containers/0/env")) {
            if (env.get("name").asText().equals("JAVA_TOOL_OPTIONS")) {
                toolOptions = env.get("value").asText();
            }
        }
        assertThat(toolOptions).as("JAVA_TOOL_OPTIONS").isNotNull().contains(ContainerJvm.OPTIONS)
                .contains(String.join(" ", ContainerJvm.jitOptions(ContainerJvm.IMAGE_DIRECTIVES)));
    }

    @Test
    void composeServicesPortsAndSettingsMatchTheOperationsPage() throws Exception {
        JsonNode compose = new ObjectMapper(new YAMLFactory()).readTree(Path.of("docker/compose.yaml").toFile());
        JsonNode services = compose.get("services");
        assertThat(services.has("kafka")).isTrue();
        assertThat(services.has("labelstream")).isTrue();
        assertThat(services.has("produce")).isTrue();
        assertThat(services.at("/kafka/image").asText()).startsWith("apache/kafka:");
        // Compose resolves the build context from the compose file's folder, the Dockerfile from the context.
        assertThat(Path.of("docker").resolve(services.at("/model/build/context").asText()).resolve(
                services.at("/model/build/dockerfile").asText()).normalize()).isEqualTo(Path.of("docker/Dockerfile"));

        Map<String, String> env = new HashMap<>();
        services.at("/labelstream/environment").fields().forEachRemaining(e -> env.put(e.getKey(), e.getValue().asText()));
        LabelstreamConfig config = LabelstreamConfig.load(null, env, Map.of());
        // run stops at start-up without a cluster: the service names the kafka one, not a broker of its own.
        assertThat(config.get(Settings.BOOTSTRAP_SERVERS)).startsWith("kafka:");
        assertThat(services.at("/labelstream/command").toString()).doesNotContain("--embedded-broker");
        int ops = config.get(Settings.OPS_PORT);
        assertThat(services.at("/labelstream/ports/0").asText()).isEqualTo(ops + ":" + ops);
        // The produce job reads the same folder labelstream may fetch references from.
        assertThat(config.get(Settings.FETCH_FILE_ROOTS)).isEqualTo("/images");
        assertThat(services.at("/produce/command").toString()).contains("--reference").contains("/images");

        String page = Files.readString(Path.of("docs/operations.md"));
        assertThat(page).contains("docker compose -f docker/compose.yaml up --build")
                .contains("http://localhost:" + ops + "/metrics").contains("localhost:9092");
    }
}
