package io.labelstream.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LabelstreamConfigTest {

    @TempDir
    Path dir;

    @Test
    void defaultsAreValid() {
        LabelstreamConfig config = LabelstreamConfig.of(Map.of());
        assertThat(config.get(Settings.MAX_BATCH_SIZE)).isEqualTo(8);
        assertThat(config.get(Settings.INPUT_TOPICS)).containsExactly("images");
        assertThat(config.get(Settings.PROCESSING_GUARANTEE)).isEqualTo("exactly_once_v2");
        assertThat(config.hasBootstrapServers()).isFalse();
    }

    @Test
    void bootstrapServersCountAsGivenOnlyWhenNotBlankAndTheirSourceIsKnown() throws Exception {
        assertThat(LabelstreamConfig.of(Map.of("bootstrap.servers", "  ")).hasBootstrapServers()).isFalse();
        Path file = dir.resolve("ls.properties");
        Files.writeString(file, "bootstrap.servers=file:9092\n");
        LabelstreamConfig fromFile = LabelstreamConfig.load(file, Map.of(), Map.of());
        assertThat(fromFile.hasBootstrapServers()).isTrue();
        assertThat(fromFile.source(Settings.BOOTSTRAP_SERVERS)).isEqualTo(LabelstreamConfig.Source.FILE);
        LabelstreamConfig fromEnvironment = LabelstreamConfig.load(file,
                Map.of("LABELSTREAM_BOOTSTRAP_SERVERS", "env:9092"), Map.of());
        assertThat(fromEnvironment.get(Settings.BOOTSTRAP_SERVERS)).isEqualTo("env:9092");
        assertThat(fromEnvironment.source(Settings.BOOTSTRAP_SERVERS))
                .isEqualTo(LabelstreamConfig.Source.ENVIRONMENT);
        assertThat(LabelstreamConfig.of(Map.of()).source(Settings.BOOTSTRAP_SERVERS))
                .isEqualTo(LabelstreamConfig.Source.DEFAULT);
    }

    @Test
    void laterLayersWinAndKafkaSettingsPassThrough() throws Exception {
        Path file = dir.resolve("ls.properties");
        Files.writeString(file, "max.batch.size=16\nmax.batch.delay.ms=5\nkafka.commit.interval.ms=250\n");
        LabelstreamConfig config = LabelstreamConfig.load(file, Map.of("max.batch.size", "32",
                "input.topics", "a, b ,c"));
        assertThat(config.get(Settings.MAX_BATCH_SIZE)).isEqualTo(32);
        assertThat(config.get(Settings.MAX_BATCH_DELAY_MS)).isEqualTo(5L);
        assertThat(config.get(Settings.INPUT_TOPICS)).isEqualTo(List.of("a", "b", "c"));
        assertThat(config.kafkaOverrides()).containsEntry("commit.interval.ms", "250");
    }

    @Test
    void aBadValueNamesTheSettingTheValueAndWhatIsAllowed() {
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("max.batch.size", "0")))
                .isInstanceOf(ConfigException.class)
                .hasMessage("Invalid setting max.batch.size='0': must be an integer from 1 to 1024");
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("processing.guarantee", "exactly_once")))
                .hasMessageContaining("processing.guarantee").hasMessageContaining("exactly_once_v2, at_least_once");
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("labels.topic", "a,b")))
                .hasMessageContaining("labels.topic").hasMessageContaining("single topic");
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("input.topics", "bad topic!")))
                .hasMessageContaining("input.topics");
        for (String timeout : new String[] {"PT0S", "-PT1H", "8h", ""}) {
            assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("review.session.timeout", timeout)))
                    .isInstanceOf(ConfigException.class).hasMessage("Invalid setting review.session.timeout='"
                            + timeout + "': must be a positive ISO-8601 duration, e.g. PT8H or PT30M");
        }
        assertThat(LabelstreamConfig.of(Map.of()).get(Settings.REVIEW_SESSION_TIMEOUT)).isEqualTo(
                java.time.Duration.ofHours(8));
        assertThat(LabelstreamConfig.of(Map.of("review.session.timeout", "PT30M"))
                .get(Settings.REVIEW_SESSION_TIMEOUT)).isEqualTo(java.time.Duration.ofMinutes(30));
        for (String bind : new String[] {"127.0.0.1:65536", "[::1]:99999", "localhost:"}) {
            assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("review.bind", bind)))
                    .isInstanceOf(ConfigException.class).hasMessageContaining("review.bind");
        }
        for (String bind : new String[] {"127.0.0.1:65535", "[::1]:0", "console.local:9480", "0.0.0.0:6553"}) {
            assertThat(LabelstreamConfig.of(Map.of("review.bind", bind)).get(Settings.REVIEW_BIND)).isEqualTo(bind);
        }
    }

    @Test
    void sideModelsAreSetUpByTheirOwnKeysAndAKeyForAnUnlistedModelIsRefused() {
        LabelstreamConfig config = LabelstreamConfig.of(Map.of("models.extra", "moderation, cand",
                "models.moderation.path", "/m.onnx", "models.moderation.top.k", "3", "models.cand.shadow", "true"));
        assertThat(config.get(Settings.MODELS_EXTRA)).containsExactly("moderation", "cand");
        assertThat(config.sideModel("moderation", Settings.SIDE_MODEL_PATH)).isEqualTo("/m.onnx");
        assertThat(config.sideModel("moderation", Settings.SIDE_MODEL_TOP_K)).isEqualTo(3);
        assertThat(config.sideModel("cand", Settings.SIDE_MODEL_TOP_K)).isEqualTo(5);
        assertThat(config.sideModel("cand", Settings.SIDE_MODEL_SHADOW)).isEqualTo("true");
        assertThat(io.labelstream.schema.Topics.from(config).sideLabels()).containsOnlyKeys("moderation", "cand")
                .extractingByKey("cand").extracting(io.labelstream.schema.Topic::name).isEqualTo("image-labels-cand");

        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("models.extra", "a", "models.b.path", "/b.onnx")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("models.b.path")
                .hasMessageContaining("models.extra does not list");
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("models.extra", "a", "models.a.pth", "/a.onnx")))
                .hasMessageContaining("Unknown setting 'models.a.pth'");
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("models.extra", "a", "models.a.top.k", "0")))
                .hasMessageContaining("models.a.top.k");
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("models.extra", "Bad_Name")))
                .hasMessageContaining("models.extra").hasMessageContaining("lower-case letters and digits");
        assertThat(LabelstreamConfig.load(null, Map.of("LABELSTREAM_MODELS_EXTRA", "m", "LABELSTREAM_MODELS_M_TOP_K",
                "2"), Map.of()).sideModel("m", Settings.SIDE_MODEL_TOP_K)).isEqualTo(2);
    }

    @Test
    void anUnknownKeyIsRefusedAsALikelyTypo() {
        assertThatThrownBy(() -> LabelstreamConfig.of(Map.of("max.batch.szie", "8")))
                .isInstanceOf(ConfigException.class).hasMessageContaining("Unknown setting 'max.batch.szie'");
    }

    @Test
    void environmentSitsBetweenTheFileAndTheCommandLine() throws Exception {
        Path file = dir.resolve("ls.properties");
        Files.writeString(file, "max.batch.size=16\nmax.batch.delay.ms=5\n");
        Map<String, String> env = Map.of("LABELSTREAM_MAX_BATCH_SIZE", "24", "LABELSTREAM_MAX_BATCH_DELAY_MS", "7",
                "LABELSTREAM_KAFKA_SASL_MECHANISM", "SCRAM-SHA-512", "LABELSTREAM_CACHE", "/tmp/x", "PATH", "/bin");
        LabelstreamConfig config = LabelstreamConfig.load(file, env, Map.of("max.batch.delay.ms", "9"));
        assertThat(config.get(Settings.MAX_BATCH_SIZE)).isEqualTo(24);
        assertThat(config.get(Settings.MAX_BATCH_DELAY_MS)).isEqualTo(9L);
        assertThat(config.kafkaOverrides()).containsEntry("sasl.mechanism", "SCRAM-SHA-512");
        assertThat(config.describe()).anySatisfy(row -> assertThat(row).containsExactly("max.batch.size", "24",
                "environment"));
        assertThat(config.describe()).anySatisfy(row -> assertThat(row).containsExactly("max.batch.delay.ms", "9",
                "command_line"));
        assertThat(config.describe()).anySatisfy(row -> assertThat(row).containsExactly("model.top.k", "5",
                "default"));
        assertThatThrownBy(() -> LabelstreamConfig.load(null, Map.of("LABELSTREAM_MAX_BACH_SIZE", "3"), Map.of()))
                .isInstanceOf(ConfigException.class).hasMessageContaining("LABELSTREAM_MAX_BACH_SIZE");
    }

    @Test
    void secretsAreMaskedInTheDescription() {
        LabelstreamConfig config = LabelstreamConfig.of(Map.of(
                "kafka.sasl.jaas.config", "org.apache.kafka.common.security.scram.ScramLoginModule required "
                        + "username=\"u\" password=\"hunter2\";",
                "kafka.ssl.truststore.password", "changeit", "kafka.ssl.key.password", "k",
                "kafka.security.protocol", "SASL_SSL", "schema.registry.basic.auth.user.info", "svc:registry-pw",
                "schema.registry.ssl.truststore.password", "trust-pw"));
        String all = config.describe().stream().map(r -> String.join(" ", r)).reduce("", (a, b) -> a + "\n" + b);
        assertThat(all).doesNotContain("hunter2").doesNotContain("changeit").contains("SASL_SSL")
                .doesNotContain("registry-pw").doesNotContain("trust-pw")
                .contains("schema.registry.basic.auth.user.info ******");
        assertThat(all).contains("kafka.sasl.jaas.config ******").contains("kafka.ssl.key.password ******");
    }

    @Test
    void aSchemaRegistrySettingThatCannotWorkStopsStartUpNamingIt() {
        assertThatThrownBy(() -> io.labelstream.schema.SchemaRegistry.from(LabelstreamConfig.of(Map.of(
                "schema.registry.url", "http://ok:8081,registry:8081"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.url")
                .hasMessageContaining("'registry:8081' is not an http(s) URL with a host");
        assertThatThrownBy(() -> io.labelstream.schema.SchemaRegistry.from(LabelstreamConfig.of(Map.of(
                "schema.registry.url", "http://r:8081", "schema.registry.basic.auth.user.info", "no-colon"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.basic.auth.user.info")
                .hasMessageContaining("user:password").hasMessageNotContaining("no-colon");
        assertThatThrownBy(() -> io.labelstream.schema.SchemaRegistry.from(LabelstreamConfig.of(Map.of(
                "schema.registry.url", "https://r:8081", "schema.registry.ssl.truststore.location", "/nonexistent.p12"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("schema.registry.ssl.truststore.location");
        assertThat(io.labelstream.schema.SchemaRegistry.from(LabelstreamConfig.of(Map.of()))).isNull();
    }

    @Test
    void theConfigurationPagesTableIsTheCodesSettings() throws Exception {
        String table = SettingsTable.in(Files.readString(Path.of("docs/configuration.md")));
        for (Setting<?> s : java.util.stream.Stream.concat(Settings.ALL.stream(), Settings.SIDE_MODEL.stream())
                .toList()) {
            String shownDefault = s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`";
            assertThat(table).as("docs/configuration.md row for %s", s.key())
                    .contains("| `" + s.key() + "` | " + shownDefault + " |");
        }
        assertThat(table).as("docs/configuration.md's table is made from the code: run "
                + "java -cp target/classes io.labelstream.config.SettingsTable").isEqualTo(SettingsTable.markdown());
    }
}
