package io.labelstream.review;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelstream.broker.KafkaClients;
import io.labelstream.broker.TopicAdmin;
import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.model.LabelSet;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.Label;
import io.labelstream.schema.Topics;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;

/**
 * {@code labelstream review}: the flagged images waiting for a person's decision, served to browsers, and the
 * decisions written to the reviews topic. Started from a configuration as {@code run} is; closed, it lets go of
 * its port, consumer and producer.
 */
public final class ReviewConsole implements AutoCloseable {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Topics topics;
    private final ReviewQueue queue = new ReviewQueue();
    private final ReviewMetrics metrics = new ReviewMetrics(queue);
    private final ReviewImages images;
    private final SortedSet<String> modelLabels;
    /** PNGs of waiting images, made once each; an image leaves when it is decided. */
    private final Map<String, byte[]> pngs = new ConcurrentHashMap<>();
    private final String token;
    private ReviewFeed feed;
    private ReviewLog log;
    private ReviewServer server;

    private ReviewConsole(LabelstreamConfig config, String token) throws IOException {
        this.token = token;
        this.topics = Topics.forConfig(config);
        KafkaClients clients = KafkaClients.of(config);
        this.images = ReviewImages.from(config, clients, topics);
        this.modelLabels = new TreeSet<>();
        String labelsPath = config.get(Settings.MODEL_LABELS_PATH);
        if (!labelsPath.isBlank()) {
            LabelSet labels = LabelSet.read(Path.of(labelsPath));
            for (int i = 0; i < labels.size(); i++) {
                modelLabels.add(labels.name(i));
            }
        }
        try {
            createReviewsTopic(clients, config);
            topics.registerReviews();
            this.feed = new ReviewFeed(clients, topics, queue, this::forget);
            feed.start();
            this.log = new ReviewLog(topics, ReviewLog.cluster(clients), feed, queue::decision);
            this.server = new ReviewServer(bind(config), this, new ConsoleAccess(token,
                    config.get(Settings.REVIEW_SESSION_TIMEOUT), Clock.systemUTC()));
        } catch (IOException | RuntimeException e) {
            // A console that did not start lets go of what it had started (the feed's thread, the producers).
            close();
            throw e;
        }
    }

    /**
     * Starts the console: reads the flagged and reviews topics and serves on review.bind.
     *
     * @throws ConfigException naming the setting when the configuration cannot serve a console
     */
    public static ReviewConsole start(LabelstreamConfig config) throws IOException {
        if (!config.hasBootstrapServers()) {
            throw new ConfigException(Settings.BOOTSTRAP_SERVERS.key() + " is required: the console reads "
                    + Settings.FLAGGED_TOPIC.key() + " from an existing cluster");
        }
        String token = config.get(Settings.REVIEW_TOKEN);
        return new ReviewConsole(config, token.isBlank() ? ConsoleAccess.generateToken() : token);
    }

    /** The token reviewers sign in with: review.token, or the one generated for this run. */
    public String token() {
        return token;
    }

    /** Where the console listens (the port chosen when review.bind asked for port 0). */
    public InetSocketAddress address() {
        return server.address();
    }

    ReviewQueue queue() {
        return queue;
    }

    ReviewMetrics metrics() {
        return metrics;
    }

    /**
     * Writes a decision unless the image was decided already, by any console; written, the image leaves this
     * console at once and the others when they read it back.
     *
     * @return empty when written; otherwise the image's first decision, and nothing was written
     */
    Optional<ImageReview> record(ImageReview review) {
        Optional<ImageReview> first = log.write(review);
        if (first.isEmpty() && queue.decided(review)) {
            forget(review);
        }
        return first;
    }

    private void forget(ImageReview firstDecision) {
        metrics.count(firstDecision);
        pngs.remove(firstDecision.getId());
    }

    /** The waiting image's PNG (map laid over when it has one); empty when no such image waits. */
    Optional<byte[]> png(String id) throws IOException {
        Optional<ImageLabels> item = queue.item(id);
        if (item.isEmpty()) {
            return Optional.empty();
        }
        byte[] png = pngs.get(id);
        if (png == null) {
            png = images.png(item.get());
            if (queue.item(id).isPresent()) {
                pngs.put(id, png);
            }
        }
        return Optional.of(png);
    }

    String page(String reviewer, String notice) {
        List<ImageLabels> items = queue.undecided();
        SortedSet<String> suggestions = new TreeSet<>(modelLabels);
        for (ImageLabels item : items) {
            item.getLabels().stream().map(Label::getLabel).forEach(suggestions::add);
        }
        return ReviewPages.console(reviewer, items, suggestions, metrics.counts(), metrics, notice);
    }

    /** {@code {"depth": N, "ids": [...]}}: what the page polls to drop images decided elsewhere. */
    String waitingJson() {
        ObjectNode json = JSON.createObjectNode();
        List<ImageLabels> items = queue.undecided();
        json.put("depth", items.size());
        var ids = json.putArray("ids");
        items.forEach(i -> ids.add(i.getId()));
        return json.toString();
    }

    private static InetSocketAddress bind(LabelstreamConfig config) {
        String bind = config.get(Settings.REVIEW_BIND);
        int colon = bind.lastIndexOf(':');
        String host = bind.substring(0, colon).replace("[", "").replace("]", "");
        return new InetSocketAddress(host, Integer.parseInt(bind.substring(colon + 1)));
    }

    private void createReviewsTopic(KafkaClients clients, LabelstreamConfig config) {
        if ("true".equals(config.get(Settings.TOPICS_CREATE))) {
            TopicAdmin.createMissing(clients.admin(), config.get(Settings.BOOTSTRAP_SERVERS),
                    List.of(TopicAdmin.newTopic(topics.reviews().name(), config)));
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.close();
        }
        try {
            if (feed != null) {
                feed.close();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (log != null) {
            log.close();
        }
        topics.close();
    }
}
