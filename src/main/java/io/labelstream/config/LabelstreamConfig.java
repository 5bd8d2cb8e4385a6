package io.labelstream.config;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
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

    /** Environment variables {@code LABELSTREAM_MAX_BATCH_SIZE} etc. set {@code max.batch.size} etc. */
    public static final String ENV_PREFIX = "LABELSTREAM_";
    /** Environment variables with the prefix that are not settings. */
    private static final java.util.Set<String> ENV_RESERVED = java.util.Set.of("LABELSTREAM_CACHE",
            "LABELSTREAM_FIXTURES", "LABELSTREAM_OPTS");
    private static final java.util.regex.Pattern SECRET_KEY = java.util.regex.Pattern.compile(
            "(?i).*(password|secret|jaas|token|credential|api\\.?key|private|user\\.info|\\.key$).*");

    /** Where a value came from, in increasing precedence. */
    public enum Source { DEFAULT, FILE, ENVIRONMENT, COMMAND_LINE }

    private final Map<String, String> values;
    private final Map<String, Source> sources;
    private final Map<Setting<?>, Object> parsed = new HashMap<>();

    private LabelstreamConfig(Map<String, String> values) {
        this(values, Map.of());
    }

    private LabelstreamConfig(Map<String, String> values, Map<String, Source> sources) {
        this.values = Map.copyOf(values);
        this.sources = Map.copyOf(sources);
        for (Setting<?> s : Settings.ALL) {
            parsed.put(s, s.parse(this.values.getOrDefault(s.key(), s.defaultValue())));
        }
        List<String> sideModels = get(Settings.MODELS_EXTRA);
        for (String key : this.values.keySet()) {
            if (key.startsWith(KAFKA_PREFIX) || Settings.ALL.stream().anyMatch(s -> s.key().equals(key))) {
                continue;
            }
            if (isSideModelKey(key)) {
                String name = key.split("\\.")[1];
                if (!sideModels.contains(name)) {
                    throw new ConfigException("Setting '" + key + "' is for a side model '" + name + "' that "
                            + Settings.MODELS_EXTRA.key() + " does not list (it lists " + sideModels + ")");
                }
                continue;
            }
            throw new ConfigException("Unknown setting '" + key + "': not a labelstream setting (see "
                    + "docs/configuration.md) and not a Kafka setting under the '" + KAFKA_PREFIX + "' prefix");
        }
        for (String name : sideModels) {
            for (Setting<?> template : Settings.SIDE_MODEL) {
                Setting<?> setting = template.forModel(name);
                parsed.put(setting, setting.parse(this.values.getOrDefault(setting.key(), setting.defaultValue())));
            }
        }
    }

    /** {@code models.NAME.<one of the side model settings>}, for any NAME. */
    private static boolean isSideModelKey(String key) {
        String[] parts = key.split("\\.", 3);
        return parts.length == 3 && parts[0].equals("models") && Settings.SIDE_MODEL.stream()
                .anyMatch(t -> t.key().equals("models." + Settings.SIDE_MODEL_PLACEHOLDER + "." + parts[2]));
    }

    /** Side model {@code name}'s value of {@code template} (one of {@link Settings#SIDE_MODEL}). */
    @SuppressWarnings("unchecked")
    public <T> T sideModel(String name, Setting<T> template) {
        Setting<T> setting = template.forModel(name);
        Object value = parsed.get(setting);
        if (value == null) {
            throw new IllegalArgumentException("no side model '" + name + "' in " + Settings.MODELS_EXTRA.key());
        }
        return (T) value;
    }

    public static LabelstreamConfig of(Map<String, String> values) {
        return new LabelstreamConfig(values);
    }

    /** Defaults, overridden by {@code file} (may be null), overridden by {@code overrides}. */
    public static LabelstreamConfig load(Path file, Map<String, String> overrides) {
        return load(file, Map.of(), overrides);
    }

    /**
     * Defaults, overridden by {@code file} (may be null), by {@code LABELSTREAM_*} variables of {@code environment},
     * then by {@code commandLine}.
     */
    public static LabelstreamConfig load(Path file, Map<String, String> environment, Map<String, String> commandLine) {
        Map<String, String> merged = new LinkedHashMap<>();
        Map<String, Source> sources = new HashMap<>();
        if (file != null) {
            readProperties(file).forEach((k, v) -> {
                merged.put(k, v);
                sources.put(k, Source.FILE);
            });
        }
        fromEnvironment(environment).forEach((k, v) -> {
            merged.put(k, v);
            sources.put(k, Source.ENVIRONMENT);
        });
        commandLine.forEach((k, v) -> {
            merged.put(k, v);
            sources.put(k, Source.COMMAND_LINE);
        });
        return new LabelstreamConfig(merged, sources);
    }

    /**
     * {@code LABELSTREAM_MAX_BATCH_SIZE=16} → {@code max.batch.size=16}; {@code LABELSTREAM_KAFKA_SASL_MECHANISM}
     * → {@code kafka.sasl.mechanism}. A variable naming no setting stops start-up, as a typo would.
     */
    static Map<String, String> fromEnvironment(Map<String, String> environment) {
        Map<String, String> settings = new LinkedHashMap<>();
        new java.util.TreeMap<>(environment).forEach((name, value) -> {
            if (!name.startsWith(ENV_PREFIX) || ENV_RESERVED.contains(name)) {
                return;
            }
            String key = name.substring(ENV_PREFIX.length()).toLowerCase(java.util.Locale.ROOT).replace('_', '.');
            if (!key.startsWith(KAFKA_PREFIX) && Settings.ALL.stream().noneMatch(s -> s.key().equals(key))
                    && !isSideModelKey(key)) {
                throw new ConfigException("Environment variable " + name + " names no setting ('" + key
                        + "'); labelstream settings are listed in docs/configuration.md, Kafka ones go under "
                        + "LABELSTREAM_KAFKA_");
            }
            settings.put(key, value);
        });
        return settings;
    }

    /** Every setting with its effective value and source, secrets masked: what {@code labelstream config} prints. */
    public java.util.List<String[]> describe() {
        java.util.List<String[]> rows = new java.util.ArrayList<>();
        for (Setting<?> s : Settings.ALL) {
            String value = values.getOrDefault(s.key(), s.defaultValue());
            rows.add(new String[] {s.key(), mask(s.key(), value),
                    source(s).name().toLowerCase(java.util.Locale.ROOT)});
        }
        new java.util.TreeMap<>(values).forEach((k, v) -> {
            if (k.startsWith(KAFKA_PREFIX)) {
                rows.add(new String[] {k, mask(k, v), sources.getOrDefault(k, Source.COMMAND_LINE).name()
                        .toLowerCase(java.util.Locale.ROOT)});
            }
        });
        return rows;
    }

    /** Where {@code setting}'s value came from: a value given to {@link #of} counts as the command line's. */
    public Source source(Setting<?> setting) {
        return sources.getOrDefault(setting.key(), values.containsKey(setting.key()) ? Source.COMMAND_LINE
                : Source.DEFAULT);
    }

    /** Values of keys that look like secrets, as any log or listing should show them. */
    public static String mask(String key, String value) {
        return SECRET_KEY.matcher(key).matches() && value != null && !value.isEmpty() ? "******" : value;
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
        Map<String, Source> s = new HashMap<>(sources);
        s.put(key, Source.COMMAND_LINE);
        return new LabelstreamConfig(m, s);
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

    /** Kafka Streams' defaults, which labelstream keeps unless {@code kafka.*} settings override them. */
    public static final long EOS_COMMIT_INTERVAL_MS = 100;
    static final long ALOS_COMMIT_INTERVAL_MS = 30_000;
    public static final long STREAMS_TRANSACTION_TIMEOUT_MS = 10_000;

    /**
     * Whether the consumer group runs Kafka's streams rebalance protocol ({@code kafka.group.protocol=streams}),
     * under which Kafka Streams builds its main consumers itself rather than through a client supplier.
     */
    public boolean streamsGroupProtocol() {
        String protocol = values.get(KAFKA_PREFIX + "group.protocol");
        return protocol != null && protocol.strip().equalsIgnoreCase("streams");
    }

    public boolean exactlyOnce() {
        return get(Settings.PROCESSING_GUARANTEE).startsWith("exactly_once");
    }

    /** How often Kafka Streams commits: {@code kafka.commit.interval.ms}, or its default for the guarantee. */
    public long commitIntervalMs() {
        return kafkaMillis("commit.interval.ms", exactlyOnce() ? EOS_COMMIT_INTERVAL_MS : ALOS_COMMIT_INTERVAL_MS);
    }

    /**
     * How long the broker lets one of this instance's transactions stay open before aborting it:
     * {@code kafka.producer.transaction.timeout.ms} (or {@code kafka.transaction.timeout.ms}), else Kafka Streams'
     * 10 s. Also the time one batch is given, bisection included, under any guarantee.
     */
    public long transactionTimeoutMs() {
        String key = values.containsKey(KAFKA_PREFIX + "producer.transaction.timeout.ms")
                ? "producer.transaction.timeout.ms" : "transaction.timeout.ms";
        return kafkaMillis(key, STREAMS_TRANSACTION_TIMEOUT_MS);
    }

    private long kafkaMillis(String key, long otherwise) {
        String value = values.get(KAFKA_PREFIX + key);
        if (value == null) {
            return otherwise;
        }
        try {
            long ms = Long.parseLong(value.strip());
            if (ms > 0) {
                return ms;
            }
        } catch (NumberFormatException e) {
            // reported below, with the setting's name
        }
        throw ConfigException.invalid(KAFKA_PREFIX + key, value, "expected a positive number of milliseconds");
    }

    /**
     * Whether a Kafka cluster was given ({@code bootstrap.servers} set and not blank). Without one, {@code run} stops
     * at start-up unless asked for an embedded broker, {@code demo} starts one, and the tools refuse to work.
     */
    public boolean hasBootstrapServers() {
        return !get(Settings.BOOTSTRAP_SERVERS).isEmpty();
    }
}
