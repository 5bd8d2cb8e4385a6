package io.labelstream.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * The validated configuration of one labelstream instance. Built from layers where a later layer overrides an
 * earlier one (defaults, then a properties file, then command-line settings). Every labelstream setting is
 * parsed at construction, so a bad value stops start-up with a message naming the setting; a key that is
 * neither a labelstream setting nor under {@code kafka.} is refused as a likely typo.
 */
public final class LabelstreamConfig {

    /** Settings under this prefix go, without it, to the Kafka clients and Streams (e.g. kafka.commit.interval.ms). */
    public static final String KAFKA_PREFIX = "kafka.";

    private final Map<String, String> values;
    private final Map<Setting<?>, Object> parsed = new HashMap<>();

    private LabelstreamConfig(Map<String, String> values) {
        this.values = Map.copyOf(values);
        for (Setting<?> s : Settings.ALL) {
            parsed.put(s, s.parse(this.values.getOrDefault(s.key(), s.defaultValue())));
        }
        for (String key : this.values.keySet()) {
            if (!key.startsWith(KAFKA_PREFIX) && Settings.ALL.stream().noneMatch(s -> s.key().equals(key))) {
                throw new ConfigException("Unknown setting '" + key + "': not a labelstream setting (see README) and"
                        + " not a Kafka setting under the '" + KAFKA_PREFIX + "' prefix");
            }
        }
    }

    public static LabelstreamConfig of(Map<String, String> values) {
        return new LabelstreamConfig(values);
    }

    /** Defaults, overridden by {@code file} (may be null), overridden by {@code overrides}. */
    public static LabelstreamConfig load(Path file, Map<String, String> overrides) {
        Map<String, String> merged = new LinkedHashMap<>();
        if (file != null) {
            merged.putAll(readProperties(file));
        }
        merged.putAll(overrides);
        return new LabelstreamConfig(merged);
    }

    private static Map<String, String> readProperties(Path file) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException e) {
            throw new ConfigException("Cannot read configuration file " + file + ": " + e.getMessage());
        }
        Map<String, String> m = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(k -> m.put(k, p.getProperty(k)));
        return m;
    }

    @SuppressWarnings("unchecked")
    public <T> T get(Setting<T> setting) {
        return (T) parsed.get(setting);
    }

    /** A copy with {@code key} set to {@code value}, validated again. */
    public LabelstreamConfig with(String key, String value) {
        Map<String, String> m = new HashMap<>(values);
        m.put(key, value);
        return new LabelstreamConfig(m);
    }

    /** Kafka client and Streams settings given under the {@code kafka.} prefix, prefix removed. */
    public Map<String, Object> kafkaOverrides() {
        Map<String, Object> m = new TreeMap<>();
        values.forEach((k, v) -> {
            if (k.startsWith(KAFKA_PREFIX)) {
                m.put(k.substring(KAFKA_PREFIX.length()), v);
            }
        });
        return m;
    }

    public boolean usesEmbeddedBroker() {
        return get(Settings.BOOTSTRAP_SERVERS).isEmpty();
    }
}
