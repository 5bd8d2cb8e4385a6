package io.labelstream.broker;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.StreamsConfig;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The Kafka clients of labelstream's tools (demo, produce, tail, replay, bench, soak), all made from one
 * configuration: bootstrap servers plus the kafka.* settings every client shares, so that a cluster's security
 * settings (SASL, TLS) reach each of them as they reach the pipeline. Keys and values are raw bytes; a
 * {@link io.labelstream.schema.Topic} reads and writes the values.
 */
public final class KafkaClients {

    /** Settings under these Streams prefixes are meant for the pipeline's own clients only. */
    private static final List<String> PIPELINE_CLIENT_PREFIXES = List.of(StreamsConfig.PRODUCER_PREFIX,
            StreamsConfig.CONSUMER_PREFIX, StreamsConfig.ADMIN_CLIENT_PREFIX);

    private final Map<String, Object> shared;

    private KafkaClients(Map<String, Object> shared) {
        this.shared = Map.copyOf(shared);
    }

    /** Clients of the cluster the configuration's bootstrap.servers names. */
    public static KafkaClients of(LabelstreamConfig config) {
        return of(config, config.get(Settings.BOOTSTRAP_SERVERS));
    }

    /** Clients of the cluster at {@code bootstrapServers}, e.g. an embedded broker's. */
    public static KafkaClients of(LabelstreamConfig config, String bootstrapServers) {
        Map<String, Object> shared = new HashMap<>();
        config.kafkaOverrides().forEach((key, value) -> {
            if (PIPELINE_CLIENT_PREFIXES.stream().noneMatch(key::startsWith)) {
                shared.put(key, value);
            }
        });
        shared.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        return new KafkaClients(shared);
    }

    public Admin admin() {
        return Admin.create(shared);
    }

    /**
     * A producer that waits for every in-sync replica and never writes a retried record twice (Kafka's defaults,
     * stated so that the tools keep them whatever the shared settings say).
     *
     * @param settings the caller's own producer settings (e.g. linger.ms), over the shared ones
     */
    public KafkaProducer<byte[], byte[]> producer(Map<String, ?> settings) {
        Map<String, Object> p = new HashMap<>(shared);
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.putAll(settings);
        return new KafkaProducer<>(p, new ByteArraySerializer(), new ByteArraySerializer());
    }

    /**
     * A consumer that sees committed transactions only, so nothing the pipeline could still roll back is counted
     * or shown.
     *
     * @param settings the caller's own consumer settings (e.g. group.id), over the shared ones
     */
    public KafkaConsumer<byte[], byte[]> readCommittedConsumer(Map<String, ?> settings) {
        Map<String, Object> c = new HashMap<>(shared);
        c.putAll(settings);
        c.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        return new KafkaConsumer<>(c, new ByteArrayDeserializer(), new ByteArrayDeserializer());
    }
}
