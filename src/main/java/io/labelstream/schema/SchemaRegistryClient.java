package io.labelstream.schema;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.avro.Schema;

import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The part of the Confluent Schema Registry REST API that labelstream needs, over the JDK's HTTP client: register
 * a schema under a subject, look one up, and fetch a schema by id. Confluent Schema Registry, Apicurio
 * ({@code /apis/ccompat/v7}), Karapace and Redpanda all serve it. With several URLs, a request that finds one
 * unavailable goes to the next next time.
 *
 * <p>Written here rather than taken from a serde library: Confluent's client is not on Maven Central, and
 * Apicurio's serdes hide what labelstream must tell apart, an id the registry does not know (the record's fault)
 * from a registry that does not answer (nobody's fault; the record waits), and bring a second kafka-clients.
 */
public final class SchemaRegistryClient {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String CONTENT_TYPE = "application/vnd.schemaregistry.v1+json";

    private final List<URI> urls;
    private final AtomicInteger current = new AtomicInteger();
    private final HttpClient http;
    private final String authorization;
    private final Duration timeout;

    /**
     * @param basicAuthUserInfo {@code user:password} for HTTP Basic authentication; null or empty for none
     * @param sslContext        trust for https URLs; null for the JDK's default
     * @param timeout           how long one request may take, connecting included
     */
    public SchemaRegistryClient(List<URI> urls, String basicAuthUserInfo, SSLContext sslContext, Duration timeout) {
        if (urls.isEmpty()) {
            throw new IllegalArgumentException("no schema registry URL");
        }
        this.urls = List.copyOf(urls);
        this.timeout = timeout;
        HttpClient.Builder builder = HttpClient.newBuilder().connectTimeout(timeout)
                .followRedirects(HttpClient.Redirect.NORMAL);
        if (sslContext != null) {
            builder.sslContext(sslContext);
        }
        this.http = builder.build();
        this.authorization = basicAuthUserInfo == null || basicAuthUserInfo.isEmpty() ? null
                : "Basic " + Base64.getEncoder().encodeToString(basicAuthUserInfo.getBytes(StandardCharsets.UTF_8));
    }

    /** The URL requests go to now: the first, or the one after the last that was unavailable. */
    public URI url() {
        return urls.get(Math.floorMod(current.get(), urls.size()));
    }

    /** Registers {@code schema} under {@code subject} (or finds it there) and answers its id. */
    public int register(String subject, Schema schema) throws SchemaRegistryException {
        return await(send("POST", "subjects/" + encode(subject) + "/versions", schemaBody(schema)))
                .path("id").asInt();
    }

    /** The id of {@code schema} under {@code subject}; NOT_FOUND when the subject does not hold it. */
    public int lookup(String subject, Schema schema) throws SchemaRegistryException {
        return await(send("POST", "subjects/" + encode(subject), schemaBody(schema))).path("id").asInt();
    }

    /**
     * The schema with registry id {@code id}. Completes exceptionally with a {@link SchemaRegistryException};
     * an id the registry does not know is NOT_FOUND, a schema that is not Avro is UNREADABLE.
     */
    public CompletableFuture<Schema> schemaById(int id) {
        return send("GET", "schemas/ids/" + id, null).thenApply(body -> {
            String type = body.path("schemaType").asText("AVRO");
            if (!"AVRO".equals(type)) {
                throw new CompletionException(new SchemaRegistryException(SchemaRegistryException.Kind.UNREADABLE,
                        200, 0, "schema id " + id + " is a " + type + " schema, not Avro", null));
            }
            try {
                return new Schema.Parser().setValidateDefaults(false).parse(body.path("schema").asText());
            } catch (RuntimeException e) {
                throw new CompletionException(new SchemaRegistryException(SchemaRegistryException.Kind.UNREADABLE,
                        200, 0, "schema id " + id + " is not a schema Avro can parse: " + e.getMessage(), e));
            }
        });
    }

    private static String schemaBody(Schema schema) {
        return JSON.createObjectNode().put("schema", schema.toString()).toString();
    }

    private static String encode(String subject) {
        return URLEncoder.encode(subject, StandardCharsets.UTF_8);
    }

    /** The answer's JSON body; fails with a {@link SchemaRegistryException} for anything but a 2xx. */
    private CompletableFuture<JsonNode> send(String method, String path, String body) {
        int at = current.get();
        URI base = urls.get(Math.floorMod(at, urls.size()));
        String root = base.toString().endsWith("/") ? base.toString() : base + "/";
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(root + path)).timeout(timeout)
                .header("Accept", CONTENT_TYPE + ", application/json")
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody()
                        : HttpRequest.BodyPublishers.ofString(body));
        if (body != null) {
            request.header("Content-Type", CONTENT_TYPE);
        }
        if (authorization != null) {
            request.header("Authorization", authorization);
        }
        String what = method + " " + root + path;
        return http.sendAsync(request.build(), HttpResponse.BodyHandlers.ofString()).handle((response, error) -> {
            if (error != null) {
                Throwable cause = error instanceof CompletionException && error.getCause() != null
                        ? error.getCause() : error;
                current.compareAndSet(at, at + 1);
                throw new CompletionException(new SchemaRegistryException(SchemaRegistryException.Kind.UNAVAILABLE,
                        0, 0, what + " got no answer: " + cause, cause));
            }
            JsonNode json = parse(response.body());
            if (response.statusCode() / 100 == 2) {
                return json;
            }
            SchemaRegistryException.Kind kind = SchemaRegistryException.kindOf(response.statusCode());
            if (kind == SchemaRegistryException.Kind.UNAVAILABLE) {
                current.compareAndSet(at, at + 1);
            }
            String message = json.path("message").asText(response.body().strip());
            throw new CompletionException(new SchemaRegistryException(kind, response.statusCode(),
                    json.path("error_code").asInt(0), what + " answered " + response.statusCode()
                    + (message.isEmpty() ? "" : ": " + message), null));
        });
    }

    private static JsonNode parse(String body) {
        try {
            return body == null || body.isBlank() ? JSON.createObjectNode() : JSON.readTree(body);
        } catch (IOException e) {
            return JSON.createObjectNode();
        }
    }

    /** Waits for {@code answer}; an interrupt is kept and reported as unavailability. */
    static <T> T await(CompletableFuture<T> answer) throws SchemaRegistryException {
        try {
            return answer.get();
        } catch (ExecutionException e) {
            if (e.getCause() instanceof SchemaRegistryException registry) {
                throw registry;
            }
            throw new SchemaRegistryException(SchemaRegistryException.Kind.UNAVAILABLE, 0, 0,
                    "schema registry request failed: " + e.getCause(), e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            answer.cancel(true);
            throw new SchemaRegistryException(SchemaRegistryException.Kind.UNAVAILABLE, 0, 0,
                    "interrupted while waiting for the schema registry", e);
        }
    }
}
