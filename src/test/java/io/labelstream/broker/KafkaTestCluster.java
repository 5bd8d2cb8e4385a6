package io.labelstream.broker;

import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

import static io.labelstream.broker.EmbeddedKafka.HOST;

/**
 * A real Kafka cluster in KRaft mode inside the test JVM, for what tests need beyond {@link EmbeddedKafka}: several
 * brokers (node 1 is also the controller), brokers stopped and started again on the same ports and data (how
 * tests take the broker away from a running pipeline), and clients that must authenticate over TLS. Its nodes are
 * formatted, configured and awaited by {@link EmbeddedKafka}'s own parts, so tests run Kafka as the product does.
 */
public final class KafkaTestCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(KafkaTestCluster.class);

    private final Path dataDir = EmbeddedKafka.createDataDir();
    private final String clusterId = Uuid.randomUuid().toString();
    private final int controllerPort;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, String> extraBrokerSettings;
    private final Security security;

    /**
     * Clients must authenticate with SCRAM-SHA-512 over TLS: the client listener is SASL_SSL with this PKCS12
     * keystore, and {@code scramUsers} (name → password) exist from the start. Brokers talk to each other on a
     * separate plain-text loopback listener.
     */
    public record Security(Path keystore, String keystorePassword, Map<String, String> scramUsers) {
    }

    private KafkaTestCluster(int brokers, Map<String, String> extraBrokerSettings, Security security) {
        this.extraBrokerSettings = Map.copyOf(extraBrokerSettings);
        this.security = security;
        int perNode = security == null ? 1 : 2;
        int[] ports = EmbeddedKafka.freePorts(1 + brokers * perNode);
        this.controllerPort = ports[0];
        for (int id = 1; id <= brokers; id++) {
            int first = 1 + (id - 1) * perNode;
            nodes.add(new Node(id, ports[first], security == null ? -1 : ports[first + 1],
                    dataDir.resolve("node-" + id)));
        }
    }

    /** Starts {@code brokers} brokers (the first also the controller) and waits until all have registered. */
    public static KafkaTestCluster start(int brokers, Map<String, String> extraBrokerSettings) {
        return start(brokers, extraBrokerSettings, null);
    }

    /** As {@link #start(int, Map)}, with clients authenticated and encrypted when {@code security} is given. */
    public static KafkaTestCluster start(int brokers, Map<String, String> extraBrokerSettings, Security security) {
        if (brokers < 1) {
            throw new IllegalArgumentException("a cluster needs at least one broker");
        }
        KafkaTestCluster cluster = new KafkaTestCluster(brokers, extraBrokerSettings, security);
        try {
            for (Node node : cluster.nodes) {
                cluster.format(node);
                cluster.startBroker(node.id);
            }
            cluster.awaitBrokers();
            log.info("Kafka test cluster ({} broker(s), KRaft, {}) ready at {}", brokers,
                    MetadataVersion.latestProduction(), cluster.bootstrapServers());
            return cluster;
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    public String bootstrapServers() {
        return nodes.stream().map(n -> HOST + ":" + n.port).collect(Collectors.joining(","));
    }

    public int size() {
        return nodes.size();
    }

    /** Stops one broker (1-based id); its data stays, so {@link #startBroker} brings it back. */
    public void stopBroker(int id) {
        Node node = nodes.get(id - 1);
        if (node.server != null) {
            EmbeddedKafka.stopServer(node.server);
            node.server = null;
        }
    }

    public void startBroker(int id) {
        Node node = nodes.get(id - 1);
        if (node.server == null) {
            node.server = EmbeddedKafka.startServer(serverSettings(node));
        }
    }

    /** Stops every broker, controller last, keeping their data. */
    public void stopAll() {
        for (int i = nodes.size(); i >= 1; i--) {
            stopBroker(i);
        }
    }

    /** Starts every stopped broker again, controller first, and waits until all have registered. */
    public void startAll() {
        for (Node node : nodes) {
            startBroker(node.id);
        }
        awaitBrokers();
    }

    private Properties serverSettings(Node node) {
        Properties p = EmbeddedKafka.nodeSettings(node.id, controllerPort, node.dir, Math.min(3, nodes.size()));
        if (security == null) {
            p.putAll(EmbeddedKafka.plaintextListeners(node.id, node.port, controllerPort));
        } else {
            p.put("listeners", "CLIENTS://" + HOST + ":" + node.port + ",INTERNAL://" + HOST + ":" + node.internalPort
                    + EmbeddedKafka.controllerListener(node.id, controllerPort));
            p.put("advertised.listeners", "CLIENTS://" + HOST + ":" + node.port + ",INTERNAL://" + HOST + ":"
                    + node.internalPort);
            p.put("listener.security.protocol.map", "CLIENTS:SASL_SSL,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT");
            p.put("inter.broker.listener.name", "INTERNAL");
            p.put("sasl.enabled.mechanisms", "SCRAM-SHA-512");
            p.put("listener.name.clients.scram-sha-512.sasl.jaas.config",
                    "org.apache.kafka.common.security.scram.ScramLoginModule required;");
            p.put("listener.name.clients.ssl.keystore.location", security.keystore().toString());
            p.put("listener.name.clients.ssl.keystore.password", security.keystorePassword());
            p.put("listener.name.clients.ssl.key.password", security.keystorePassword());
            p.put("listener.name.clients.ssl.keystore.type", "PKCS12");
        }
        p.putAll(extraBrokerSettings);
        return p;
    }

    private void format(Node node) {
        var formatter = EmbeddedKafka.formatter(node.id, clusterId, node.dir);
        if (security != null) {
            formatter.setScramArguments(security.scramUsers().entrySet().stream()
                    .map(u -> "SCRAM-SHA-512=[name=" + u.getKey() + ",password=" + u.getValue() + "]").toList());
        }
        EmbeddedKafka.format(formatter, node.dir);
    }

    private void awaitBrokers() {
        // The internal listener needs no credentials, so readiness is checked the same way with security on.
        EmbeddedKafka.awaitBrokers(security == null ? bootstrapServers()
                        : nodes.stream().map(n -> HOST + ":" + n.internalPort).collect(Collectors.joining(",")),
                nodes.size(), Duration.ofSeconds(60));
    }

    @Override
    public void close() {
        try {
            stopAll();
        } finally {
            EmbeddedKafka.deleteRecursively(dataDir);
        }
    }

    private static final class Node {
        final int id;
        final int port;
        final int internalPort;
        final Path dir;
        KafkaRaftServer server;

        Node(int id, int port, int internalPort, Path dir) {
            this.id = id;
            this.port = port;
            this.internalPort = internalPort;
            this.dir = dir;
        }
    }
}
