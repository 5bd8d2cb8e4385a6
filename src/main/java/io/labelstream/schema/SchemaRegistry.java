package io.labelstream.schema;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import org.apache.avro.Schema;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One instance's dealings with its schema registry: the ids of the schemas it writes, registered (or looked up)
 * once per subject, and the writer schemas of the records it reads, fetched once per id. Nothing the registry
 * fails to answer is a failure: a registration waits for it, and a writer schema is asked for again, with a
 * backoff, until the registry gives an answer; meanwhile {@link #waitingFor()} says why.
 */
public final class SchemaRegistry implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(SchemaRegistry.class);
    private static final Duration FIRST_BACKOFF = Duration.ofMillis(100);
    /** How long an id the registry said it does not know is taken as unknown before it is asked again. */
    private static final Duration UNUSABLE_KEPT = Duration.ofSeconds(30);
    private static final AtomicInteger THREADS = new AtomicInteger();

    /** What the registry answered for one writer schema id: its schema, or why there is none to use. */
    private sealed interface Answer permits Found, Unusable {
    }

    private record Found(Schema schema) implements Answer {
    }

    /** @param expiresAtNanos when the registry is asked again: an id unknown now may be restored later */
    private record Unusable(SchemaRegistryException why, long expiresAtNanos) implements Answer {
    }

    private final SchemaRegistryClient client;
    private final boolean autoRegister;
    private final Duration maxBackoff;
    private final ScheduledExecutorService retries = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "labelstream-schema-registry-" + THREADS.incrementAndGet());
        t.setDaemon(true);
        return t;
    });
    private final Map<Integer, Answer> answers = new ConcurrentHashMap<>();
    private final Map<Integer, CompletableFuture<Void>> fetching = new ConcurrentHashMap<>();
    private final Map<String, Integer> registered = new ConcurrentHashMap<>();
    /** Ids whose fetch has failed for want of an answer at least once and is being retried. */
    private final Set<Integer> retrying = ConcurrentHashMap.newKeySet();
    private volatile String lastProblem;
    private volatile Instant unavailableSince;

    /**
     * @param autoRegister false: the schemas written must already be registered under their subjects
     * @param maxBackoff   the longest wait between two asks for a schema while the registry does not answer
     */
    public SchemaRegistry(SchemaRegistryClient client, boolean autoRegister, Duration maxBackoff) {
        this.client = client;
        this.autoRegister = autoRegister;
        this.maxBackoff = maxBackoff;
    }

    /**
     * The registry {@code schema.registry.url} names, with its credentials and trust; null when it is not set.
     * Asks nothing of the registry yet. A URL or trust store that cannot work stops start-up naming the setting.
     */
    public static SchemaRegistry from(LabelstreamConfig config) {
        String urls = config.get(Settings.SCHEMA_REGISTRY_URL);
        if (urls.isEmpty()) {
            return null;
        }
        List<URI> parsed = new ArrayList<>();
        for (String url : urls.split(",")) {
            if (url.isBlank()) {
                continue;
            }
            try {
                URI uri = new URI(url.trim());
                if (!"http".equalsIgnoreCase(uri.getScheme()) && !"https".equalsIgnoreCase(uri.getScheme())
                        || uri.getHost() == null) {
                    throw new URISyntaxException(url, "not an http(s) URL with a host");
                }
                parsed.add(uri);
            } catch (URISyntaxException e) {
                throw ConfigException.invalid(Settings.SCHEMA_REGISTRY_URL.key(), urls,
                        "'" + url.trim() + "' is not an http(s) URL with a host (" + e.getReason() + ")");
            }
        }
        if (parsed.isEmpty()) {
            throw ConfigException.invalid(Settings.SCHEMA_REGISTRY_URL.key(), urls, "names no URL");
        }
        String userInfo = config.get(Settings.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO);
        if (!userInfo.isEmpty() && !userInfo.contains(":")) {
            throw new ConfigException("Invalid setting " + Settings.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO.key()
                    + ": must be user:password");
        }
        SchemaRegistryClient client = new SchemaRegistryClient(parsed, userInfo, sslContext(config),
                Duration.ofMillis(config.get(Settings.SCHEMA_REGISTRY_TIMEOUT_MS)));
        return new SchemaRegistry(client, Boolean.parseBoolean(config.get(Settings.SCHEMA_REGISTRY_AUTO_REGISTER)),
                Duration.ofMillis(config.get(Settings.SCHEMA_REGISTRY_RETRY_BACKOFF_MAX_MS)));
    }

    /** Trust for https registry URLs from the trust store settings; null: the JDK's default trust. */
    private static SSLContext sslContext(LabelstreamConfig config) {
        String location = config.get(Settings.SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION);
        if (location.isEmpty()) {
            return null;
        }
        String password = config.get(Settings.SCHEMA_REGISTRY_SSL_TRUSTSTORE_PASSWORD);
        try (InputStream in = Files.newInputStream(Path.of(location))) {
            KeyStore store = KeyStore.getInstance(config.get(Settings.SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE));
            store.load(in, password.isEmpty() ? null : password.toCharArray());
            TrustManagerFactory trust = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            trust.init(store);
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, trust.getTrustManagers(), null);
            return context;
        } catch (IOException | GeneralSecurityException e) {
            throw ConfigException.invalid(Settings.SCHEMA_REGISTRY_SSL_TRUSTSTORE_LOCATION.key(), location,
                    "cannot be read as a " + config.get(Settings.SCHEMA_REGISTRY_SSL_TRUSTSTORE_TYPE)
                            + " trust store with the password given: " + e.getMessage());
        }
    }

    public SchemaRegistryClient client() {
        return client;
    }

    /**
     * The id of {@code schema} under {@code subject}: registered when {@code schema.registry.auto.register} is
     * true, looked up otherwise. While the registry does not answer this waits, saying so in the log; an answer
     * that can never change (the subject lacks the schema, the schema is incompatible, the credentials are
     * refused) stops start-up with the registry's own words.
     */
    public int idOf(String subject, Schema schema) {
        Integer known = registered.get(subject);
        if (known != null) {
            return known;
        }
        long backoffMs = FIRST_BACKOFF.toMillis();
        Instant since = null;
        while (true) {
            try {
                int id = autoRegister ? client.register(subject, schema) : client.lookup(subject, schema);
                registered.put(subject, id);
                if (since != null) {
                    log.info("The schema registry at {} answered after {} s: subject {} holds {} as id {}",
                            client.url(), Duration.between(since, Instant.now()).toSeconds(), subject,
                            schema.getName(), id);
                    recovered();
                }
                return id;
            } catch (SchemaRegistryException e) {
                switch (e.kind()) {
                    case NOT_FOUND -> throw new ConfigException("Setting " + Settings.SCHEMA_REGISTRY_AUTO_REGISTER.key()
                            + "=false: subject " + subject + " does not hold labelstream's " + schema.getFullName()
                            + " schema in the registry (" + e.getMessage() + "); register it there, or set "
                            + Settings.SCHEMA_REGISTRY_AUTO_REGISTER.key() + "=true");
                    case INCOMPATIBLE -> throw new ConfigException("Setting " + Settings.SCHEMA_REGISTRY_URL.key()
                            + ": the registry refuses labelstream's " + schema.getFullName() + " schema under subject "
                            + subject + " as incompatible with what the subject holds (" + e.getMessage() + ")");
                    case REFUSED, UNREADABLE -> throw new ConfigException("Setting " + Settings.SCHEMA_REGISTRY_URL.key()
                            + ": the registry refused to " + (autoRegister ? "register" : "look up") + " subject "
                            + subject + " (" + e.getMessage() + "); check "
                            + Settings.SCHEMA_REGISTRY_BASIC_AUTH_USER_INFO.key() + " and the registry's permissions");
                    case UNAVAILABLE -> {
                        unavailable(new SchemaRegistryException(e.kind(), e.status(), e.errorCode(),
                                "registering subject " + subject + ": " + e.getMessage(), e));
                        if (since == null) {
                            since = Instant.now();
                            log.warn("Waiting for the schema registry to register subject {}: {}; asking again until "
                                    + "it answers", subject, e.getMessage());
                        }
                    }
                }
            }
            try {
                Thread.sleep(backoffMs);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for the schema registry at "
                        + client.url() + " (" + lastProblem + ")", e);
            }
            backoffMs = Math.min(maxBackoff.toMillis(), backoffMs * 2);
        }
    }

    /**
     * The writer schema with registry id {@code id}, when it is already known without asking the registry.
     *
     * @return the schema; null when it must be fetched first ({@link #fetch})
     * @throws SchemaRegistryException NOT_FOUND or UNREADABLE: the registry's answer for this id
     */
    Schema knownWriterSchema(int id) throws SchemaRegistryException {
        Answer answer = answers.get(id);
        if (answer instanceof Found found) {
            return found.schema();
        }
        if (answer instanceof Unusable unusable) {
            if (System.nanoTime() - unusable.expiresAtNanos() < 0) {
                throw unusable.why();
            }
            answers.remove(id, answer);
        }
        return null;
    }

    /**
     * Starts fetching writer schema {@code id}, unless a fetch is under way; completes when the registry has
     * answered (with the schema, or that it has none), never because it did not answer.
     */
    CompletableFuture<Void> fetch(int id) {
        return fetching.computeIfAbsent(id, key -> {
            CompletableFuture<Void> settled = new CompletableFuture<>();
            ask(id, settled, FIRST_BACKOFF.toMillis());
            return settled;
        });
    }

    private void ask(int id, CompletableFuture<Void> settled, long backoffMs) {
        client.schemaById(id).whenComplete((schema, error) -> {
            if (error == null) {
                answers.put(id, new Found(schema));
                settle(id, settled);
                return;
            }
            Throwable cause = error.getCause() != null ? error.getCause() : error;
            if (cause instanceof SchemaRegistryException e && (e.kind() == SchemaRegistryException.Kind.NOT_FOUND
                    || e.kind() == SchemaRegistryException.Kind.UNREADABLE)) {
                answers.put(id, new Unusable(e, System.nanoTime() + UNUSABLE_KEPT.toNanos()));
                settle(id, settled);
                return;
            }
            // No answer, or one that says a setting is wrong (401, 403): the record is not at fault, it waits.
            if (retrying.add(id)) {
                log.warn("Records written with schema id {} wait: the schema registry gave no usable answer ({}); "
                        + "asking again until it does", id, cause.getMessage());
            }
            unavailable(cause);
            retries.schedule(() -> ask(id, settled, Math.min(maxBackoff.toMillis(), backoffMs * 2)), backoffMs,
                    TimeUnit.MILLISECONDS);
        });
    }

    private void settle(int id, CompletableFuture<Void> settled) {
        fetching.remove(id, settled);
        if (retrying.remove(id)) {
            log.info("The schema registry answered for schema id {}; its records go on", id);
        }
        recovered();
        settled.complete(null);
    }

    private void unavailable(Throwable why) {
        lastProblem = why.getMessage();
        if (unavailableSince == null) {
            unavailableSince = Instant.now();
        }
    }

    /** The registry answered: nothing waits for it unless another writer schema is still asked for. */
    private void recovered() {
        if (retrying.isEmpty()) {
            unavailableSince = null;
        }
    }

    /**
     * Why records wait for the registry now, in one line; null when none does. Readiness reports it, and
     * {@link #waitingSchemas()} counts the schema ids concerned.
     */
    public String waitingFor() {
        Instant since = unavailableSince;
        if (since == null) {
            return null;
        }
        return "waiting for the schema registry since " + since + " (" + retrying.size() + " writer schema id(s) "
                + "asked for again): " + lastProblem;
    }

    /** Schema ids whose records wait because the registry has not answered for them. */
    public int waitingSchemas() {
        return retrying.size();
    }

    @Override
    public void close() {
        retries.shutdownNow();
    }
}
