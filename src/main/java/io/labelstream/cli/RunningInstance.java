package io.labelstream.cli;

import io.labelstream.broker.EmbeddedKafkaCluster;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.stream.Pipeline;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;

/**
 * Everything one labelstream process runs, started in order (broker if embedded, model, pipeline) and closed in
 * reverse: the pipeline first, so nothing uses the model or broker after they are gone.
 */
final class RunningInstance implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(RunningInstance.class);

    private final EmbeddedKafkaCluster broker;
    private final LabelingEngine engine;
    private final Pipeline pipeline;
    private final String bootstrapServers;

    private RunningInstance(EmbeddedKafkaCluster broker, LabelingEngine engine, Pipeline pipeline,
                            String bootstrapServers) {
        this.broker = broker;
        this.engine = engine;
        this.pipeline = pipeline;
        this.bootstrapServers = bootstrapServers;
    }

    static RunningInstance start(LabelstreamConfig config) {
        // The model is loaded first: a bad model setting should fail before a broker is started for nothing.
        LabelingEngine engine = EngineFactory.create(config);
        EmbeddedKafkaCluster broker = null;
        try {
            String bootstrap;
            if (config.usesEmbeddedBroker()) {
                log.info("No bootstrap.servers given: starting an embedded single-node Kafka broker");
                broker = EmbeddedKafkaCluster.startSingleNode();
                bootstrap = broker.bootstrapServers();
            } else {
                bootstrap = config.get(io.labelstream.config.Settings.BOOTSTRAP_SERVERS);
            }
            var model = engine.model();
            log.info("Model {} v{} sha256 {} ({} classes, input {}) on {}, recipe {}", model.identity().getName(),
                    model.identity().getVersion(), model.identity().getSha256(), model.classifier().classes(),
                    model.classifier().input(), model.classifier().provider(), engine.recipe());
            Pipeline pipeline = Pipeline.start(config, bootstrap, engine);
            return new RunningInstance(broker, engine, pipeline, bootstrap);
        } catch (RuntimeException e) {
            engine.close();
            if (broker != null) {
                broker.close();
            }
            throw e;
        }
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    Pipeline pipeline() {
        return pipeline;
    }

    @Override
    public void close() {
        pipeline.close(Duration.ofSeconds(30));
        engine.close();
        if (broker != null) {
            broker.close();
        }
    }
}
