package io.labelstream.review;

import io.labelstream.broker.KafkaClients;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Reads the flagged topic and the reviews topic from their beginning, read_committed, for as long as the console
 * runs: flags fill the queue, decisions (this console's, other consoles', earlier runs') empty it. The consumer's
 * group is its own and commits nothing: every console start reads both topics whole. It also tells how far it has
 * read each partition of the reviews topic, so that {@link ReviewLog} can wait until this console knows every
 * decision committed before a given offset.
 */
final class ReviewFeed implements AutoCloseable, ReviewLog.Reader {

    private static final Logger log = LoggerFactory.getLogger(ReviewFeed.class);

    private final KafkaConsumer<byte[], byte[]> consumer;
    private final Topics topics;
    private final ReviewQueue queue;
    private final Consumer<ImageReview> firstDecisions;
    private final Thread thread;
    /** Per reviews partition, the offset before which every record has reached the queue; guarded by this. */
    private final Map<TopicPartition, Long> read = new HashMap<>();
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
                noteReviewsRead();
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

    /** After the records of a poll reached the queue: the consumer's position is how far the queue knows. */
    private void noteReviewsRead() {
        for (TopicPartition p : consumer.assignment()) {
            if (p.topic().equals(topics.reviews().name())) {
                try {
                    long position = consumer.position(p, Duration.ofMillis(200));
                    synchronized (this) {
                        read.put(p, position);
                        notifyAll();
                    }
                } catch (TimeoutException e) {
                    // Not known yet: the next poll finds it.
                }
            }
        }
    }

    @Override
    public synchronized boolean awaitRead(TopicPartition partition, long offset, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (read.getOrDefault(partition, -1L) < offset) {
            long left = deadline - System.nanoTime();
            if (left <= 0 || closed) {
                return false;
            }
            wait(Math.max(1, left / 1_000_000));
        }
        return true;
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        synchronized (this) {
            notifyAll(); // a decision waiting in awaitRead gives up now
        }
        consumer.wakeup();
        thread.join(10_000);
    }
}
