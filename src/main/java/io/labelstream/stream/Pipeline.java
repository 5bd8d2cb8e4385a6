package io.labelstream.stream;

import io.labelstream.broker.TopicAdmin;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ReferenceFetcher;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelSet;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.ModelId;
import io.labelstream.model.ModelReloader;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.SchemaRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static io.labelstream.broker.TopicAdmin.MAX_RECORD_BYTES;

/**
 * One running labelstream instance, its lifecycle: the Kafka Streams application around {@link LabelingTopology}
 * (settings parsed by {@link TopologySettings}, topics created by {@link TopicAdmin}).
 * Instances with the same {@code application.id} share the input partitions as one consumer group.
 */
public final class Pipeline implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Pipeline.class);
    private final KafkaStreams streams;
    private final ReferenceFetcher fetcher;
    /** Null without {@code schema.registry.url}. */
    private final SchemaRegistry registry;
    private final CountDownLatch running = new CountDownLatch(1);
    private final CompletableFuture<KafkaStreams.State> stopped = new CompletableFuture<>();
    private volatile Throwable fatal;
    /** Empty unless model.reload=watch. */
    private java.util.List<ModelReloader> reloaders = java.util.List.of();

    private Pipeline(KafkaStreams streams, ReferenceFetcher fetcher, SchemaRegistry registry) {
        this.streams = streams;
        this.fetcher = fetcher;
        this.registry = registry;
    }

    /** Creates missing topics (when {@code topics.create} is true) and starts the streams instance. */
    public static Pipeline start(LabelstreamConfig config, String bootstrapServers, LabelingEngine engine) {
        return start(config, bootstrapServers, engine, PipelineMetrics.inMemory());
    }

    /** As {@link #start(LabelstreamConfig, String, LabelingEngine)}, recording metrics into {@code metrics}. */
    public static Pipeline start(LabelstreamConfig config, String bootstrapServers, LabelingEngine engine,
                                 PipelineMetrics metrics) {
        var options = TopologySettings.options(config, engine, metrics);
        SchemaRegistry registry = options.topics().registry();
        try {
            warmUp(config, engine);
            // Before any stream thread runs, so that none ever waits for the registry to write.
            options.topics().registerOutputs();
        } catch (RuntimeException e) {
            if (options.fetcher() != null) {
                options.fetcher().close();
            }
            if (registry != null) {
                registry.close();
            }
            throw e;
        }
        Properties props = streamsProperties(config, bootstrapServers);
        if (Boolean.parseBoolean(config.get(Settings.TOPICS_CREATE))) {
            TopicAdmin.createMissing(config, props);
        }
        StreamThreadWakeups wakeups = new StreamThreadWakeups();
        KafkaStreams streams = new KafkaStreams(LabelingTopology.build(options, engine, wakeups), props,
                wakeups.clientSupplier());
        new io.micrometer.core.instrument.binder.kafka.KafkaStreamsMetrics(streams).bindTo(metrics.registry());
        showModel(metrics, engine);
        metrics.batchLimit(config.get(Settings.MAX_BATCH_SIZE));
        Pipeline pipeline = new Pipeline(streams, options.fetcher(), registry);
        metrics.readiness(pipeline::ready);
        if (registry != null) {
            metrics.schemaRegistry(registry::waitingSchemas);
        }
        streams.setStateListener((now, before) -> {
            wakeups.instanceRunning(now == KafkaStreams.State.RUNNING);
            if (now == KafkaStreams.State.RUNNING) {
                pipeline.running.countDown();
            } else if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
                pipeline.stopped.complete(now);
            } else if (now == KafkaStreams.State.PENDING_SHUTDOWN) {
                wakeups.wakeAll(); // the threads see it now rather than after their poll
            }
        });
        streams.setUncaughtExceptionHandler(e -> {
            pipeline.fatal = e;
            log.error("Stream thread failed; shutting this instance down", e);
            return org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse
                    .SHUTDOWN_CLIENT;
        });
        pipeline.reloaders = EngineFactory.reloaders(config, engine, side -> candidate -> {
            // The rules must still name classes the models have, with the candidate in its place.
            Map<String, LabelSet> sideLabels = new HashMap<>(engine.models().sideLabels());
            LabelSet primaryLabels = engine.primaryModel().labels();
            if (side == null) {
                primaryLabels = candidate.labels();
            } else {
                sideLabels.put(side, candidate.labels());
            }
            EngineFactory.checkShadowClasses(config, primaryLabels, sideLabels);
            try {
                options.moderation().forModels(primaryLabels, sideLabels);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(Settings.MODERATION_RULES.key() + " do not fit its labels: "
                        + e.getMessage());
            }
        }, new ModelReloader.Listener() {
            @Override
            public void loaded(ModelId replaced, ModelId now) {
                metrics.modelReload(true);
                showModel(metrics, engine);
            }

            @Override
            public void refused(String reason) {
                metrics.modelReload(false);
            }
        });
        streams.start();
        return pipeline;
    }

    private static void showModel(PipelineMetrics metrics, LabelingEngine engine) {
        var model = engine.primaryModel();
        metrics.modelInfo(model.identity().name(), model.identity().versionOrUnknown(), model.identity().sha256(),
                model.inferencePool().provider().toString(), engine.recipeHash());
    }

    /** One untimed full batch: a model that cannot run {@code max.batch.size} images at once stops start-up. */
    private static void warmUp(LabelstreamConfig config, LabelingEngine engine) {
        int batchSize = config.get(Settings.MAX_BATCH_SIZE);
        try {
            engine.warmUp(batchSize);
        } catch (io.labelstream.model.ModelException e) {
            throw new io.labelstream.config.ConfigException("Setting " + Settings.MODEL_PATH.key() + ": the model "
                    + "cannot run a batch of " + batchSize + " (" + Settings.MAX_BATCH_SIZE.key() + "): "
                    + e.getMessage());
        }
    }

    static Properties streamsProperties(LabelstreamConfig config, String bootstrapServers) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, config.get(Settings.APPLICATION_ID));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, config.get(Settings.PROCESSING_GUARANTEE));
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, config.get(Settings.NUM_STREAM_THREADS));
        String stateDir = config.get(Settings.STATE_DIR);
        if (!stateDir.isEmpty()) {
            p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        }
        if (config.streamsGroupProtocol()) {
            // Kafka Streams builds these consumers itself, so their polls cannot be woken (StreamThreadWakeups):
            // the thread runs wall-clock punctuators only between polls, so a poll must not outlast the tick.
            p.put(StreamsConfig.POLL_MS_CONFIG, TopologySettings.tick(config.get(Settings.MAX_BATCH_DELAY_MS))
                    .toMillis());
        } else {
            // Woken when there is work, an idle thread may sleep in its poll, and its consumer need not ask the
            // broker for records more often: a fetch returns as soon as a record arrives, whatever its wait. An
            // idle thread still wakes at each heartbeat (heartbeat.interval.ms, 3 s), at each empty fetch's return
            // and at each poll's end; at 3 s for both it wakes about once a second instead of twice or more.
            long idlePollMs = config.get(Settings.IDLE_POLL_MS);
            p.put(StreamsConfig.POLL_MS_CONFIG, idlePollMs);
            p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG), (int) idlePollMs);
        }
        p.put(StreamsConfig.producerPrefix(ProducerConfig.MAX_REQUEST_SIZE_CONFIG), MAX_RECORD_BYTES);
        p.put(StreamsConfig.topicPrefix(TopicConfig.MAX_MESSAGE_BYTES_CONFIG), MAX_RECORD_BYTES);
        // The topology has no global stores; opting in now keeps behaviour stable when Kafka 5.0 makes it default.
        p.put("processing.exception.handler.global.enabled", true);
        p.putAll(config.kafkaOverrides());
        return p;
    }

    /** Waits until the instance has joined its group and is processing. */
    public boolean awaitRunning(Duration timeout) throws InterruptedException {
        return running.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Completes with the state the instance ended in, ERROR or NOT_RUNNING, whether it stopped by itself or was
     * closed: something to wait on instead of asking for the state again and again.
     */
    public CompletableFuture<KafkaStreams.State> stopped() {
        return stopped.copy();
    }

    public KafkaStreams.State state() {
        return streams.state();
    }

    /** Ready to label: the streams instance is RUNNING and no record waits for the schema registry. */
    public boolean ready() {
        return streams.state() == KafkaStreams.State.RUNNING && (registry == null || registry.waitingFor() == null);
    }

    /** The state in one line, with why records wait for the schema registry, if they do. */
    public String status() {
        String waiting = registry == null ? null : registry.waitingFor();
        return streams.state().name() + (waiting == null ? "" : "; " + waiting);
    }

    public Throwable fatalError() {
        return fatal;
    }

    public void close(Duration timeout) {
        reloaders.forEach(ModelReloader::close);
        streams.close(timeout);
        if (fetcher != null) {
            fetcher.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    @Override
    public void close() {
        close(Duration.ofSeconds(30));
    }
}
