package io.labelstream.cli;

import io.labelstream.broker.EmbeddedKafka;
import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.ops.OpsServer;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.stream.Pipeline;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import org.apache.kafka.streams.KafkaStreams;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Everything one labelstream process runs, started in order (model, broker if asked for, pipeline, the ops HTTP
 * server) and closed in reverse: the pipeline first, so nothing uses the model or broker after they are gone.
 */
final class RunningInstance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RunningInstance.class);
    private static final String BOOTSTRAP_VARIABLE = LabelstreamConfig.ENV_PREFIX + "BOOTSTRAP_SERVERS";

    private final EmbeddedKafka broker;
    private final LabelingEngine engine;
    private final Pipeline pipeline;
    private final OpsServer ops;
    private final String bootstrapServers;
    private final Duration shutdownTimeout;
    private volatile boolean closing;

    private RunningInstance(EmbeddedKafka broker, LabelingEngine engine, Pipeline pipeline, OpsServer ops,
                            String bootstrapServers, Duration shutdownTimeout) {
        this.broker = broker;
        this.engine = engine;
        this.pipeline = pipeline;
        this.ops = ops;
        this.bootstrapServers = bootstrapServers;
        this.shutdownTimeout = shutdownTimeout;
    }

    /**
     * Starts an instance on the cluster of {@code bootstrap.servers}, or, with {@code embeddedBroker}, on a
     * single-node broker of its own; one or the other must be asked for (see {@link #checkBroker}).
     */
    static RunningInstance start(LabelstreamConfig config, boolean embeddedBroker) {
        checkBroker(config, embeddedBroker);
        // The model is loaded next: a bad model setting should fail before a broker is started for nothing.
        // A batch is given what a transaction is: its bisection never outlasts the transaction it is labeled in.
        LabelingEngine engine = EngineFactory.create(config, Duration.ofMillis(config.transactionTimeoutMs()));
        EmbeddedKafka broker = null;
        Pipeline pipeline = null;
        OpsServer ops = null;
        try {
            String bootstrap;
            if (embeddedBroker) {
                log.info("Starting an embedded single-node Kafka broker in this process");
                broker = EmbeddedKafka.start();
                bootstrap = broker.bootstrapServers();
            } else {
                bootstrap = config.get(Settings.BOOTSTRAP_SERVERS);
            }
            var model = engine.primaryModel();
            log.info("Model {} version {} sha256 {} ({} classes, input {}) on {}, recipe {}", model.identity().name(),
                    model.identity().versionOrUnknown(), model.identity().sha256(), model.classes(), model.input(),
                    model.inferencePool().provider(), engine.recipe());
            PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
            new io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics().bindTo(registry);
            new io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics().bindTo(registry);
            new io.micrometer.core.instrument.binder.system.ProcessorMetrics().bindTo(registry);
            // The ops server answers while the pipeline starts, which may wait for the schema registry: live, not
            // ready, rather than no answer at all (which a platform would take as a reason to restart it).
            AtomicReference<Pipeline> started = new AtomicReference<>();
            int port = config.get(Settings.OPS_PORT);
            if (port >= 0) {
                ops = OpsServer.start(port, registry, () -> started.get() == null || live(started.get()),
                        () -> started.get() != null && started.get().ready(),
                        () -> started.get() == null ? "STARTING" : started.get().status());
                log.info("Metrics at http://localhost:{}/metrics, health at /health/live and /health/ready", ops.port());
            }
            pipeline = Pipeline.start(config, bootstrap, engine, new PipelineMetrics(registry));
            started.set(pipeline);
            return new RunningInstance(broker, engine, pipeline, ops, bootstrap,
                    Duration.ofMillis(config.get(Settings.SHUTDOWN_TIMEOUT_MS)));
        } catch (IOException e) {
            closeAll(pipeline, null, engine, broker);
            throw new ConfigException("Setting " + Settings.OPS_PORT.key() + "=" + config.get(Settings.OPS_PORT)
                    + ": cannot listen (" + e.getMessage() + "); pick another port, 0 for any, or -1 for none");
        } catch (RuntimeException e) {
            closeAll(pipeline, ops, engine, broker);
            throw e;
        }
    }

    /**
     * Stops start-up, before anything is loaded, unless exactly one of a cluster and an embedded broker was asked
     * for. A missing bootstrap.servers is a deployment's mistake, not a request for a broker: an instance on a broker
     * of its own would label nothing and still report ready.
     */
    static void checkBroker(LabelstreamConfig config, boolean embeddedBroker) {
        String key = Settings.BOOTSTRAP_SERVERS.key();
        if (!embeddedBroker && !config.hasBootstrapServers()) {
            throw new ConfigException("No Kafka cluster given: set " + key + " (--bootstrap-servers HOST:PORT, the "
                    + "environment variable " + BOOTSTRAP_VARIABLE + ", -s " + key
                    + "=HOST:PORT or the --config file). To try labelstream without one, pass --embedded-broker: it "
                    + "starts a single-node broker inside this process, whose topics go when it stops");
        }
        if (embeddedBroker && config.hasBootstrapServers()) {
            throw new ConfigException("--embedded-broker and " + key + "=" + config.get(Settings.BOOTSTRAP_SERVERS)
                    + " (" + whereFrom(config.source(Settings.BOOTSTRAP_SERVERS)) + ") both given: labelstream "
                    + "runs on one or the other; drop --embedded-broker, or unset " + key);
        }
    }

    private static String whereFrom(LabelstreamConfig.Source source) {
        return switch (source) {
            case FILE -> "from the --config file";
            case ENVIRONMENT -> "from the environment variable " + BOOTSTRAP_VARIABLE;
            case COMMAND_LINE -> "from the command line";
            case DEFAULT -> "the default";
        };
    }

    /** Alive unless the pipeline has failed for good; a rebalance or a broker outage is not death. */
    private static boolean live(Pipeline pipeline) {
        KafkaStreams.State state = pipeline.state();
        return state != KafkaStreams.State.ERROR && state != KafkaStreams.State.PENDING_ERROR;
    }

    private static void closeAll(Pipeline pipeline, OpsServer ops, LabelingEngine engine, EmbeddedKafka broker) {
        if (pipeline != null) {
            pipeline.close(Duration.ofSeconds(30));
        }
        if (ops != null) {
            ops.close();
        }
        engine.close();
        if (broker != null) {
            broker.close();
        }
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    Pipeline pipeline() {
        return pipeline;
    }

    int opsPort() {
        return ops == null ? -1 : ops.port();
    }

    @Override
    public synchronized void close() {
        if (closing) {
            return;
        }
        closing = true;
        long t0 = System.nanoTime();
        // The pipeline commits what it has done; buffered records stay in their changelog for the next owner.
        pipeline.close(shutdownTimeout);
        if (ops != null) {
            ops.close();
        }
        engine.close();
        if (broker != null) {
            broker.close();
        }
        log.info("Stopped in {} ms", (System.nanoTime() - t0) / 1_000_000);
    }
}
