package io.labelstream.broker;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Creates the topics a configuration names, as {@code topics.create} asks at start-up. */
public final class TopicAdmin {

    private static final Logger log = LoggerFactory.getLogger(TopicAdmin.class);
    /** Failure records and buffered records carry whole images, so they may exceed Kafka's 1 MiB default. */
    public static final int MAX_RECORD_BYTES = 32 * 1024 * 1024;

    private TopicAdmin() {
    }

    /**
     * Creates the configured topics that do not exist yet, with topics.partitions and topics.replication.factor:
     * the input topics (unless input.topic.pattern names them), labels, failures (which carry whole images, up to
     * {@link #MAX_RECORD_BYTES}), flagged when moderation rules are set, and the flat rows and ranks topics when
     * they are set. Existing topics are left as they are.
     *
     * @param clientProps client or Streams properties; the admin client takes those it knows (bootstrap servers,
     *                    security)
     * @throws ConfigException when the cluster refuses the credentials, naming the settings to check
     */
    public static void createMissing(LabelstreamConfig config, Properties clientProps) {
        Topics topics = Topics.from(config);
        List<Topic<?>> plain = new ArrayList<>();
        if (topics.inputPattern() == null) {
            plain.addAll(topics.inputs());
        }
        if (!config.get(Settings.MODERATION_RULES).isBlank()) {
            // Flagged records repeat labels records, so the flagged topic is created like the labels topic.
            plain.add(topics.flagged());
        }
        plain.add(topics.labels());
        plain.addAll(topics.sideLabels().values());
        if (topics.rows() != null) {
            plain.add(topics.rows());
        }
        if (topics.ranks() != null) {
            plain.add(topics.ranks());
        }
        List<NewTopic> wanted = new ArrayList<>();
        for (Topic<?> topic : plain) {
            wanted.add(newTopic(topic.name(), config));
        }
        wanted.add(newTopic(topics.failures().name(), config)
                .configs(Map.of(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES))));
        Properties adminProps = new Properties();
        clientProps.forEach((k, v) -> {
            if (AdminClientConfig.configNames().contains(k.toString())) {
                adminProps.put(k, v);
            }
        });
        createMissing(Admin.create(adminProps), clientProps.get(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG), wanted);
    }

    /** A topic named {@code name} with topics.partitions and topics.replication.factor. */
    public static NewTopic newTopic(String name, LabelstreamConfig config) {
        return new NewTopic(name, Optional.of(config.get(Settings.TOPICS_PARTITIONS)),
                Optional.of(config.get(Settings.TOPICS_REPLICATION_FACTOR).shortValue()));
    }

    /**
     * Creates those of {@code wanted} that do not exist yet through {@code admin}, which it closes; existing
     * topics are left as they are.
     *
     * @param bootstrap where {@code admin} connects, for the messages
     * @throws ConfigException when the cluster refuses the credentials, naming the settings to check
     */
    public static void createMissing(Admin admin, Object bootstrap, List<NewTopic> wanted) {
        try (admin) {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = wanted.stream().filter(t -> !existing.contains(t.name())).toList();
            if (missing.isEmpty()) {
                return;
            }
            try {
                admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
                log.info("Created topics {}", missing.stream().map(NewTopic::name).toList());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw e;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        } catch (Exception e) {
            for (Throwable t = e; t != null; t = t.getCause()) {
                if (t instanceof AuthenticationException) {
                    throw new ConfigException("Kafka at " + bootstrap + " refused labelstream's credentials ("
                            + t.getMessage() + "): check kafka.security.protocol, kafka.sasl.mechanism, "
                            + "kafka.sasl.jaas.config and kafka.ssl.truststore.*");
                }
            }
            throw new IllegalStateException("cannot create topics on " + bootstrap + ": " + e.getMessage(), e);
        }
    }
}
