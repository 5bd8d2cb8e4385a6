package io.labelstream.ops;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import io.labelstream.config.Settings;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What can be checked in deploy/connect without Docker: the Compose service runs every connector file, swaps
 * exactly the local hosts, ports and paths the worker file has, and agrees with the connectors on topics, database
 * and credentials; docs/connect.md names every file. (ConnectPostgresIT runs the files themselves.)
 */
class ConnectFilesTest {

    private static final Path DIR = Path.of("deploy/connect");
    private static final List<String> CONNECTORS = List.of("jdbc-labels.properties", "jdbc-label-ranks.properties",
            "jdbc-failures.properties");

    @Test
    void composeRunsTheWorkerFilesWithTheServicesHosts() throws IOException {
        JsonNode services = new ObjectMapper(new YAMLFactory()).readTree(DIR.resolve("compose.yaml").toFile())
                .get("services");
        assertThat(services.fieldNames()).toIterable().contains("labelstream", "registry", "postgres", "connect");
        String command = services.get("connect").get("command").get(2).asText();
        Properties worker = load("worker.properties");
        // Every value the sed expressions replace is the worker file's own.
        assertThat(worker.getProperty("bootstrap.servers")).isEqualTo("localhost:9092");
        assertThat(command).contains("s#localhost:9092#kafka:29092#");
        assertThat(worker.getProperty("value.converter.apicurio.registry.url")).startsWith("http://localhost:8080/");
        assertThat(command).contains("s#localhost:8080#registry:8080#");
        assertThat(command).contains("s#" + worker.getProperty("offset.storage.file.filename") + "#")
                .contains("s#" + worker.getProperty("listeners") + "#")
                .contains("s#" + worker.getProperty("plugin.path") + "#");
        assertThat(command).contains("-cp '/connect/target/worker-lib/*'")
                .contains("org.apache.kafka.connect.cli.ConnectStandalone /tmp/worker.properties");

        JsonNode env = services.get("labelstream").get("environment");
        JsonNode postgres = services.get("postgres").get("environment");
        for (String file : CONNECTORS) {
            assertThat(command).as(file).contains("/tmp/" + file);
            Properties connector = load(file);
            assertThat(connector.getProperty("connection.url")).as(file)
                    .isEqualTo("jdbc:postgresql://localhost:5432/" + postgres.get("POSTGRES_DB").asText());
            assertThat(command).contains("s#localhost:5432#postgres:5432#");
            assertThat(connector.getProperty("connection.username")).isEqualTo(postgres.get("POSTGRES_USER").asText());
            assertThat(connector.getProperty("connection.password"))
                    .isEqualTo(postgres.get("POSTGRES_PASSWORD").asText());
        }
        assertThat(load("jdbc-labels.properties").getProperty("topics"))
                .isEqualTo(env.get("LABELSTREAM_LABELS_FLAT_TOPIC").asText());
        assertThat(load("jdbc-label-ranks.properties").getProperty("topics"))
                .isEqualTo(env.get("LABELSTREAM_LABELS_RANKS_TOPIC").asText());
        assertThat(load("jdbc-failures.properties").getProperty("topics"))
                .isEqualTo(Settings.FAILURES_TOPIC.defaultValue());
        assertThat(env.get("LABELSTREAM_SCHEMA_REGISTRY_URL").asText()).isEqualTo("http://registry:8080/apis/ccompat/v7");
    }

    @Test
    void theConnectPageNamesEveryFile() throws IOException {
        String page = Files.readString(Path.of("docs/connect.md"));
        for (String file : CONNECTORS) {
            assertThat(page).contains("deploy/connect/" + file);
        }
        assertThat(page).contains("deploy/connect/worker.properties", "deploy/connect/pom.xml",
                "deploy/connect/compose.yaml", "deploy/connect/log4j2.properties", "deploy/connect/broker.properties");
    }

    @Test
    void theTrialBrokerIsWhereTheWorkerLooks() throws IOException {
        Properties broker = load("broker.properties");
        assertThat(broker.getProperty("advertised.listeners"))
                .isEqualTo("PLAINTEXT://" + load("worker.properties").getProperty("bootstrap.servers"));
        assertThat(broker.getProperty("offsets.topic.replication.factor")).isEqualTo("1");
        assertThat(broker.getProperty("transaction.state.log.replication.factor")).isEqualTo("1");
        assertThat(broker.getProperty("transaction.state.log.min.isr")).isEqualTo("1");
    }

    private static Properties load(String file) throws IOException {
        Properties props = new Properties();
        try (Reader in = Files.newBufferedReader(DIR.resolve(file))) {
            props.load(in);
        }
        return props;
    }
}
