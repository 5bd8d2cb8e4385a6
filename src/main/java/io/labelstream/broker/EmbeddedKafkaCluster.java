package io.labelstream.broker;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A real Apache Kafka cluster in KRaft mode inside this JVM: node 1 is controller and broker, nodes 2…n are
 * brokers. It listens on loopback only, on free ports, keeps its logs in a temporary folder that {@link #close}
 * deletes, and runs the production metadata version (no unstable features).
 *
 * <p>Brokers can be stopped and started again on the same ports and data, which is how tests take the broker
 * away from a running pipeline.
 */
public final class EmbeddedKafkaCluster implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafkaCluster.class);
    private static final String HOST = "127.0.0.1";
    private static final int CONTROLLER_NODE = 1;

    private final Path dataDir;
    private final String clusterId = Uuid.randomUuid().toString();
    private final int controllerPort;
    private final List<Node> nodes = new ArrayList<>();
    private final Map<String, String> extraBrokerSettings;
    private final Security security;

    /**
     * Clients must authenticate with SCRAM-SHA-512 over TLS: the client listener is SASL_SSL with this PKCS12
     * keystore, and {@code scramUsers} (name → password) exist from the start. Brokers talk to each other on a
     * separate loopback listener.
     */
    public record Security(java.nio.file.Path keystore, String keystorePassword, Map<String, String> scramUsers) {
    }

    private EmbeddedKafkaCluster(int brokers, Map<String, String> extraBrokerSettings, Security security)
            throws IOException {
        this.dataDir = Files.createTempDirectory("labelstream-kafka-");
        this.extraBrokerSettings = Map.copyOf(extraBrokerSettings);
        this.security = security;
        this.controllerPort = freePort();
        for (int id = 1; id <= brokers; id++) {
            nodes.add(new Node(id, freePort(), security == null ? -1 : freePort(), dataDir.resolve("node-" + id)));
        }
    }

    /** Starts a single-node cluster and waits until it accepts clients. */
    public static EmbeddedKafkaCluster startSingleNode() {
        return start(1, Map.of());
    }

    /** Starts {@code brokers} brokers (the first also the controller) and waits until all have registered. */
    public static EmbeddedKafkaCluster start(int brokers, Map<String, String> extraBrokerSettings) {
        return start(brokers, extraBrokerSettings, null);
    }

    /** As {@link #start(int, Map)}, with clients authenticated and encrypted when {@code security} is given. */
    public static EmbeddedKafkaCluster start(int brokers, Map<String, String> extraBrokerSettings, Security security) {
        if (brokers < 1) {
            throw new IllegalArgumentException("a cluster needs at least one broker");
        }
        EmbeddedKafkaCluster cluster;
        try {
            cluster = new EmbeddedKafkaCluster(brokers, extraBrokerSettings, security);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data folder for the embedded Kafka broker", e);
        }
        try {
            for (Node node : cluster.nodes) {
                cluster.format(node);
                cluster.startNode(node);
            }
            cluster.awaitBrokers(brokers, Duration.ofSeconds(60));
            log.info("Embedded Kafka ({} broker(s), KRaft, {}) ready at {}", brokers,
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
            node.server.shutdown();
            node.server.awaitShutdown();
            node.server = null;
        }
    }

    public void startBroker(int id) {
        Node node = nodes.get(id - 1);
        if (node.server == null) {
            startNode(node);
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
        awaitBrokers(nodes.size(), Duration.ofSeconds(60));
    }

    private Properties serverProperties(Node node) {
        Properties p = new Properties();
        boolean controller = node.id == CONTROLLER_NODE;
        int replication = Math.min(3, nodes.size());
        p.put("node.id", Integer.toString(node.id));
        p.put("process.roles", controller ? "broker,controller" : "broker");
        p.put("controller.quorum.voters", CONTROLLER_NODE + "@" + HOST + ":" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        String controllerListener = controller ? ",CONTROLLER://" + HOST + ":" + controllerPort : "";
        if (security == null) {
            p.put("listeners", "PLAINTEXT://" + HOST + ":" + node.port + controllerListener);
            p.put("advertised.listeners", "PLAINTEXT://" + HOST + ":" + node.port);
            p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
            p.put("inter.broker.listener.name", "PLAINTEXT");
        } else {
            p.put("listeners", "CLIENTS://" + HOST + ":" + node.port + ",INTERNAL://" + HOST + ":" + node.internalPort
                    + controllerListener);
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
        p.put("log.dirs", node.dir.toString());
        // Without these a small cluster cannot create the offsets and transaction topics, and consumers get nothing.
        p.put("offsets.topic.replication.factor", Integer.toString(replication));
        p.put("offsets.topic.num.partitions", "5");
        p.put("transaction.state.log.replication.factor", Integer.toString(replication));
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "5");
        p.put("min.insync.replicas", "1");
        p.put("default.replication.factor", Integer.toString(replication));
        p.put("group.initial.rebalance.delay.ms", "0");
        p.put("auto.create.topics.enable", "false");
        p.put("log.flush.interval.messages", Long.toString(Long.MAX_VALUE));
        p.put("share.coordinator.state.topic.replication.factor", Integer.toString(replication));
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.putAll(extraBrokerSettings);
        return p;
    }

    private void format(Node node) {
        try {
            Files.createDirectories(node.dir);
            new Formatter()
                    .setPrintStream(new PrintStream(java.io.OutputStream.nullOutputStream()))
                    .setNodeId(node.id)
                    .setClusterId(clusterId)
                    .setControllerListenerName("CONTROLLER")
                    .setMetadataLogDirectory(node.dir.toString()) // log.dirs is one folder; metadata lives there too
                    .addDirectory(node.dir.toString())
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setScramArguments(security == null ? java.util.List.of() : security.scramUsers().entrySet().stream()
                            .map(u -> "SCRAM-SHA-512=[name=" + u.getKey() + ",password=" + u.getValue() + "]")
                            .toList())
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format embedded Kafka storage in " + node.dir + ": "
                    + e.getMessage(), e);
        }
    }

    private void startNode(Node node) {
        KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(serverProperties(node), false), Time.SYSTEM);
        server.startup();
        node.server = server;
    }

    private void awaitBrokers(int expected, Duration timeout) {
        Properties p = new Properties();
        // The internal listener needs no credentials, so readiness can be checked the same way with security on.
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, security == null ? bootstrapServers()
                : nodes.stream().map(n -> HOST + ":" + n.internalPort).collect(Collectors.joining(",")));
        long deadline = System.nanoTime() + timeout.toNanos();
        try (Admin admin = Admin.create(p)) {
            while (true) {
                try {
                    int registered = admin.describeCluster().nodes().get(5, TimeUnit.SECONDS).size();
                    if (registered >= expected) {
                        return;
                    }
                } catch (Exception e) {
                    if (e instanceof InterruptedException) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException("interrupted while waiting for Kafka", e);
                    }
                }
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("embedded Kafka did not register " + expected
                            + " broker(s) within " + timeout.toSeconds() + " s");
                }
                sleep(100);
            }
        }
    }

    @Override
    public void close() {
        try {
            stopAll();
        } finally {
            deleteRecursively(dataDir);
        }
    }

    private static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.warn("Could not delete embedded Kafka data in {}: {}", dir, e.getMessage());
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName(HOST))) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
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
