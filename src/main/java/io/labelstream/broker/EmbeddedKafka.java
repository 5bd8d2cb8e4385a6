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
import java.io.OutputStream;
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
import java.util.stream.Stream;

/**
 * A single-node Apache Kafka broker in KRaft mode inside this JVM, for the commands that start one when no
 * bootstrap.servers is given (demo, run, bench): one node that is controller and broker, listening on loopback
 * only, on free ports, with its logs in a temporary folder that {@link #close} deletes, on the production metadata
 * version (no unstable features).
 *
 * <p>Its package-private parts (storage format, server settings, readiness wait) are what the tests' multi-broker
 * cluster builds on, so that both run Kafka the same way.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(EmbeddedKafka.class);
    static final String HOST = "127.0.0.1";
    /** The node that is also the controller; one controller, since three in one JVM proved unreliable. */
    static final int CONTROLLER_NODE = 1;

    private final Path dataDir;
    private final String bootstrapServers;
    private KafkaRaftServer server;

    private EmbeddedKafka(Path dataDir, String bootstrapServers, KafkaRaftServer server) {
        this.dataDir = dataDir;
        this.bootstrapServers = bootstrapServers;
        this.server = server;
    }

    /** Starts the broker and waits until it accepts clients. */
    public static EmbeddedKafka start() {
        Path dataDir = createDataDir();
        KafkaRaftServer server = null;
        try {
            int[] ports = freePorts(2);
            int port = ports[0];
            int controllerPort = ports[1];
            format(formatter(CONTROLLER_NODE, Uuid.randomUuid().toString(), dataDir), dataDir);
            Properties settings = nodeSettings(CONTROLLER_NODE, controllerPort, dataDir, 1);
            settings.putAll(plaintextListeners(CONTROLLER_NODE, port, controllerPort));
            server = startServer(settings);
            String bootstrap = HOST + ":" + port;
            awaitBrokers(bootstrap, 1, Duration.ofSeconds(60));
            log.info("Embedded Kafka (1 broker, KRaft, {}) ready at {}", MetadataVersion.latestProduction(), bootstrap);
            return new EmbeddedKafka(dataDir, bootstrap, server);
        } catch (RuntimeException e) {
            if (server != null) {
                stopServer(server);
            }
            deleteRecursively(dataDir);
            throw e;
        }
    }

    public String bootstrapServers() {
        return bootstrapServers;
    }

    @Override
    public void close() {
        try {
            if (server != null) {
                stopServer(server);
                server = null;
            }
        } finally {
            deleteRecursively(dataDir);
        }
    }

    static Path createDataDir() {
        try {
            return Files.createTempDirectory("labelstream-kafka-");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create a data folder for the embedded Kafka broker", e);
        }
    }

    /**
     * What node {@code nodeId} of a cluster of {@code replication} or more brokers needs besides its listeners:
     * its roles, the controller quorum, its log folder, and replication settings small enough for the cluster.
     */
    static Properties nodeSettings(int nodeId, int controllerPort, Path logDir, int replication) {
        Properties p = new Properties();
        p.put("node.id", Integer.toString(nodeId));
        p.put("process.roles", nodeId == CONTROLLER_NODE ? "broker,controller" : "broker");
        p.put("controller.quorum.voters", CONTROLLER_NODE + "@" + HOST + ":" + controllerPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("log.dirs", logDir.toString());
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
        return p;
    }

    /** The controller's own listener, to append to the controller node's {@code listeners}; empty on other nodes. */
    static String controllerListener(int nodeId, int controllerPort) {
        return nodeId == CONTROLLER_NODE ? ",CONTROLLER://" + HOST + ":" + controllerPort : "";
    }

    /** Listeners of a node that clients and the other brokers reach in plain text on {@code port}. */
    static Map<String, String> plaintextListeners(int nodeId, int port, int controllerPort) {
        return Map.of("listeners", "PLAINTEXT://" + HOST + ":" + port + controllerListener(nodeId, controllerPort),
                "advertised.listeners", "PLAINTEXT://" + HOST + ":" + port,
                "listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
                "inter.broker.listener.name", "PLAINTEXT");
    }

    /** The storage format of one node (log.dirs is one folder; the metadata log lives there too). */
    static Formatter formatter(int nodeId, String clusterId, Path dir) {
        return new Formatter()
                .setPrintStream(new PrintStream(OutputStream.nullOutputStream()))
                .setNodeId(nodeId)
                .setClusterId(clusterId)
                .setControllerListenerName("CONTROLLER")
                .setMetadataLogDirectory(dir.toString())
                .addDirectory(dir.toString())
                .setReleaseVersion(MetadataVersion.latestProduction());
    }

    static void format(Formatter formatter, Path dir) {
        try {
            Files.createDirectories(dir);
            formatter.run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format embedded Kafka storage in " + dir + ": "
                    + e.getMessage(), e);
        }
    }

    static KafkaRaftServer startServer(Properties settings) {
        KafkaRaftServer server = new KafkaRaftServer(new KafkaConfig(settings, false), Time.SYSTEM);
        server.startup();
        return server;
    }

    static void stopServer(KafkaRaftServer server) {
        server.shutdown();
        server.awaitShutdown();
    }

    /** Waits until {@code expected} brokers have registered with the cluster at {@code bootstrapServers}. */
    static void awaitBrokers(String bootstrapServers, int expected, Duration timeout) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
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

    static void deleteRecursively(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            log.warn("Could not delete embedded Kafka data in {}: {}", dir, e.getMessage());
        }
    }

    /**
     * {@code count} distinct loopback ports free right now. Each socket stays open until all are chosen: a port
     * closed before the next is asked for can be handed out again, and a broker given the same port for two
     * listeners does not start.
     */
    public static int[] freePorts(int count) {
        List<ServerSocket> sockets = new ArrayList<>(count);
        try {
            int[] ports = new int[count];
            for (int i = 0; i < count; i++) {
                ServerSocket socket = new ServerSocket(0, 50, InetAddress.getByName(HOST));
                sockets.add(socket);
                ports[i] = socket.getLocalPort();
            }
            return ports;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find " + count + " free loopback port(s)", e);
        } finally {
            for (ServerSocket socket : sockets) {
                try {
                    socket.close();
                } catch (IOException ignored) {
                    // the port was free a moment ago; closing it again cannot matter
                }
            }
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
}
