package io.labelstream.review;

import io.labelstream.broker.KafkaClients;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Reads the flagged topic and the reviews topic from their beginning, read_committed, for as long as the console
 * runs: flags fill the queue, decisions (this console's, other consoles', earlier runs') empty it. The consumer's
 * group is its own and commits nothing: every console start reads both topics whole.
 */
final class ReviewFeed implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ReviewFeed.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final ReviewQueue queue;
    private final Consumer<ImageReview> firstDecisions;
    private final Thread thread;
    private volatile boolean closed;

    /** @param firstDecisions told of each image's first decision read back (for the measures) */
    ReviewFeed(KafkaClients clients, Topics topics, ReviewQueue queue, Consumer<ImageReview> firstDecisions) {
        this.consumer = clients.readCommittedConsumer(Map.of(
                ConsumerConfig.GROUP_ID_CONFIG, "labelstream-review-" + UUID.randomUUID(),
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
        this.topics = topics;
        this.queue = queue;
        this.firstDecisions = firstDecisions;
        this.thread = new Thread(this::read, "labelstream-review-feed");
        this.thread.setDaemon(true);
    }

    void start() {
        consumer.subscribe(List.of(topics.flagged().name(), topics.reviews().name()));
        thread.start();
    }

    private void read() {
        try {
            while (!closed) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(1))) {
                    take(r);
                }
            }
        } catch (WakeupException e) {
            // close() ends the loop.
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void take(ConsumerRecord<byte[], byte[]> r) {
        if (r.value() == null) {
            return;
        }
        try {
            if (r.topic().equals(topics.reviews().name())) {
                ImageReview review = topics.reviews().value(r);
                if (queue.decided(review)) {
                    firstDecisions.accept(review);
                }
            } else {
                ImageLabels labels = topics.flagged().value(r);
                if (!labels.getFlags().isEmpty()) {
                    queue.flagged(labels);
                }
            }
        } catch (RuntimeException e) {
            log.warn("Skipping {}/{}/{}: not a record the console can read: {}", r.topic(), r.partition(),
                    r.offset(), e.getMessage());
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        consumer.wakeup();
        thread.join(10_000);
    }
}
