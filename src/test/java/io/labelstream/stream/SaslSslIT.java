package io.labelstream.stream;

import io.labelstream.broker.KafkaTestCluster;
import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.testing.ChildInstance;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.TestModels;
import io.labelstream.testing.TopicTraffic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * An authenticated, encrypted broker: SASL_SSL with SCRAM-SHA-512 and a TLS certificate made here with the JDK's
 * keytool. labelstream gets its credentials only through its own settings (kafka.* pass-through).
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class SaslSslIT {

    private static final String STORE_PASSWORD = "store-pass-7f3a";
    private static final String SECRET = "alice-s3cret-91c4";

    @TempDir
    Path dir;

    @Test
    void labelsThroughSaslSslRefusesWrongCredentialsAndNeverShowsTheSecret() throws Exception {
        Path keystore = dir.resolve("broker.p12");
        Path truststore = dir.resolve("trust.p12");
        Path cert = dir.resolve("broker.pem");
        keytool("-genkeypair", "-alias", "broker", "-keyalg", "RSA", "-keysize", "2048", "-validity", "2",
                "-dname", "CN=localhost", "-ext", "SAN=ip:127.0.0.1,dns:localhost", "-keystore", keystore.toString(),
                "-storetype", "PKCS12", "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD);
        keytool("-exportcert", "-alias", "broker", "-keystore", keystore.toString(), "-storepass", STORE_PASSWORD,
                "-rfc", "-file", cert.toString());
        keytool("-importcert", "-alias", "broker", "-file", cert.toString(), "-keystore", truststore.toString(),
                "-storetype", "PKCS12", "-storepass", STORE_PASSWORD, "-noprompt");

        var security = new KafkaTestCluster.Security(keystore, STORE_PASSWORD, Map.of("alice", SECRET));
        try (KafkaTestCluster kafka = KafkaTestCluster.start(1, Map.of(), security)) {
            Map<String, String> client = new HashMap<>();
            client.put("kafka.security.protocol", "SASL_SSL");
            client.put("kafka.sasl.mechanism", "SCRAM-SHA-512");
            client.put("kafka.sasl.jaas.config", jaas(SECRET));
            client.put("kafka.ssl.truststore.location", truststore.toString());
            client.put("kafka.ssl.truststore.password", STORE_PASSWORD);
            client.put("kafka.ssl.truststore.type", "PKCS12");

            Map<String, String> settings = new HashMap<>(client);
            settings.put("bootstrap.servers", kafka.bootstrapServers());
            settings.put("application.id", "secure");
            settings.put("model.path", TestModels.resnet18().toString());
            settings.put("state.dir", dir.resolve("state").toString());
            settings.put("ops.port", "0");

            // Wrong password: start-up stops with a message about credentials, naming no secret.
            Map<String, String> wrong = new HashMap<>(settings);
            wrong.put("kafka.sasl.jaas.config", jaas("not-the-password"));
            LabelstreamConfig wrongConfig = LabelstreamConfig.of(wrong);
            try (LabelingEngine engine = EngineFactory.create(wrongConfig)) {
                assertThatThrownBy(() -> Pipeline.start(wrongConfig, kafka.bootstrapServers(), engine))
                        .isInstanceOf(ConfigException.class)
                        .hasMessageContaining("refused labelstream's credentials")
                        .hasMessageContaining("kafka.sasl.jaas.config")
                        .hasMessageNotContaining("not-the-password");
            }

            // The right one, in a real labelstream process configured only through its settings.
            Properties traffic = new Properties();
            client.forEach((k, v) -> traffic.put(k.substring("kafka.".length()), v));
            TopicTraffic topics = new TopicTraffic(kafka.bootstrapServers(), traffic);
            try (ChildInstance child = ChildInstance.start("sasl-ssl", settings)) {
                // The child creates the topic; until then a producer cannot find it.
                topics.awaitTopic("images", Duration.ofSeconds(60),
                        () -> assertThat(child.isAlive()).as("child log:%n%s", child.log()).isTrue());
                List<String> ids = topics.publishImages("images", "secure", 20, 320, 240);
                TopicTraffic.Outcome out = topics.awaitOutcome("images", "image-labels", "image-failures", 20,
                        Duration.ofMinutes(2), () -> null);
                assertThat(out.missing(ids)).as("child log:%n%s", child.log()).isEmpty();
                assertThat(out.duplicates()).isEmpty();
                child.terminate(30);
                assertThat(child.log()).doesNotContain(SECRET).doesNotContain(STORE_PASSWORD);
            }

            // 'config' shows the settings with every secret masked.
            List<String> args = new java.util.ArrayList<>(List.of("config"));
            settings.forEach((k, v) -> {
                args.add("-s");
                args.add(k + "=" + v);
            });
            var shown = ConsoleCapture.run(() -> io.labelstream.cli.CliTestAccess.execute(args.toArray(String[]::new)));
            assertThat(shown.exitCode()).isZero();
            assertThat(shown.out()).contains("kafka.sasl.jaas.config").contains("SASL_SSL")
                    .doesNotContain(SECRET).doesNotContain(STORE_PASSWORD);
        }
    }

    private static String jaas(String password) {
        return "org.apache.kafka.common.security.scram.ScramLoginModule required username=\"alice\" password=\""
                + password + "\";";
    }

    private static void keytool(String... args) throws Exception {
        List<String> command = new java.util.ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "keytool").toString());
        command.addAll(List.of(args));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(output).isZero();
    }
}
