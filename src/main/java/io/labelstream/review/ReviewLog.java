package io.labelstream.review;

import io.labelstream.broker.KafkaClients;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.KafkaFuture;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * Writes decisions to the reviews topic, keyed by the image's id, so that each image has at most one decision on
 * the topic however many consoles decide it at the same instant; a decision that comes second is not written, and
 * the caller learns the one that was first.
 *
 * <p>The lock is Kafka's own producer fencing. Every console writes partition {@code p} of the reviews topic with
 * the same transactional.id, {@code labelstream-review-TOPIC-p}, and writes an image's decision only to the
 * partition its id hashes to. Before deciding, a console holds a producer for that id: its {@code initTransactions}
 * makes the transaction coordinator (1) complete the previous holder's transaction first (one being committed is
 * committed, its markers written, before the new producer is initialised; an open one is aborted) and (2) bump the
 * epoch, after which every send and commit of an earlier holder fails with a fencing error. So once this console
 * has initialised and read {@code p} read_committed up to its end offset taken after the init, it knows every
 * decision that anyone can ever have committed to {@code p} before it, and no one else can commit to {@code p}
 * until someone initialises again. If the image is undecided it writes in one transaction; if someone initialised
 * in between, that transaction fails, and the console initialises again (in turn completing or aborting the other's
 * transaction), reads to the end again and checks again: either the other's decision is there now and is the
 * answer, or it was aborted and this console tries once more (a bounded number of times). A console keeps its
 * producer between decisions: while it is not fenced, no one else has written to {@code p}.
 *
 * <p>The reviews topic's partition count must not change while consoles run: it decides which partition, and so
 * which transactional.id, an image's decision belongs to.
 */
final class ReviewLog implements AutoCloseable {

    /** How far the console has read the reviews topic into what it knows ({@link ReviewFeed}). */
    interface Reader {
        /**
         * Waits until every record of {@code partition} before {@code offset} has been read into the console's
         * queue; returns whether that happened within {@code timeout}.
         */
        boolean awaitRead(TopicPartition partition, long offset, Duration timeout) throws InterruptedException;
    }

    /** What the log needs of the cluster (a test's own stands in for it). */
    interface Cluster extends AutoCloseable {
        /** A new transactional producer with this id, not yet initialised. */
        Producer<byte[], byte[]> producer(String transactionalId);

        int partitions(String topic);

        /** The partition's end offset for read_committed readers (its last stable offset). */
        long committedEnd(TopicPartition partition);

        @Override
        void close();
    }

    private static final Logger log = LoggerFactory.getLogger(ReviewLog.class);
    /** Writes tried before giving up on a decision; more than two consoles deciding one image at once is rare. */
    static final int ATTEMPTS = 6;
    private static final Duration WAIT = Duration.ofSeconds(30);

    private final Topics topics;
    private final Cluster cluster;
    private final Reader reader;
    private final Function<String, Optional<ImageReview>> firstDecision;
    private final int partitions;
    private final Map<Integer, Partition> held = new ConcurrentHashMap<>();

    /**
     * @param cluster       where the reviews topic is; closed with this log
     * @param firstDecision the first decision the console knows on an image id, from what {@code reader} read
     * @throws KafkaException when the reviews topic cannot be described
     */
    ReviewLog(Topics topics, Cluster cluster, Reader reader, Function<String, Optional<ImageReview>> firstDecision) {
        this.topics = topics;
        this.cluster = cluster;
        this.reader = reader;
        this.firstDecision = firstDecision;
        try {
            this.partitions = cluster.partitions(topics.reviews().name());
        } catch (RuntimeException e) {
            cluster.close();
            throw e;
        }
    }

    /** The cluster {@code clients} reach, through their producers and an admin client. */
    static Cluster cluster(KafkaClients clients) {
        Admin admin = clients.admin();
        return new Cluster() {
            @Override
            public Producer<byte[], byte[]> producer(String transactionalId) {
                return clients.producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG, transactionalId));
            }

            @Override
            public int partitions(String topic) {
                return get(admin.describeTopics(List.of(topic)).allTopicNames(), "describe " + topic)
                        .get(topic).partitions().size();
            }

            @Override
            public long committedEnd(TopicPartition partition) {
                return get(admin.listOffsets(Map.of(partition, OffsetSpec.latest()),
                                new ListOffsetsOptions(IsolationLevel.READ_COMMITTED)).partitionResult(partition),
                        "read the end offset of " + partition).offset();
            }

            @Override
            public void close() {
                admin.close(Duration.ofSeconds(5));
            }
        };
    }

    private static <T> T get(KafkaFuture<T> future, String what) {
        try {
            return future.get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException | java.util.concurrent.TimeoutException e) {
            throw new KafkaException("cannot " + what + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new KafkaException("interrupted: cannot " + what, e);
        }
    }

    /**
     * Writes {@code review} unless its image already has a decision on the topic.
     *
     * @return empty when {@code review} is on the topic (now, or from an earlier try of this call whose outcome was
     *         unclear); otherwise the decision that was first, and nothing was written
     * @throws KafkaException when the decision could not be written (nor, after a failed try, be found written)
     */
    Optional<ImageReview> write(ImageReview review) {
        byte[] key = review.getId().getBytes(StandardCharsets.UTF_8);
        // The producer's own choice for a keyed record, made here so that record and transactional.id agree.
        int partition = Utils.toPositive(Utils.murmur2(key)) % partitions;
        Partition p = held.computeIfAbsent(partition, Partition::new);
        synchronized (p) {
            return p.write(review);
        }
    }

    /** One partition of the reviews topic and, while this console holds it, its transactional producer. */
    private final class Partition {

        private final TopicPartition partition;
        private final String transactionalId;
        private Producer<byte[], byte[]> producer;

        Partition(int partition) {
            this.partition = new TopicPartition(topics.reviews().name(), partition);
            this.transactionalId = "labelstream-review-" + this.partition.topic() + "-" + partition;
        }

        Optional<ImageReview> write(ImageReview review) {
            KafkaException failure = null;
            // The last round only checks: after a failed write, whether that write was committed after all.
            for (int attempt = 0; attempt <= ATTEMPTS; attempt++) {
                try {
                    hold();
                    Optional<ImageReview> first = firstDecision.apply(review.getId());
                    if (first.isPresent()) {
                        return sameDecision(first.get(), review) ? Optional.empty() : first;
                    }
                    if (attempt == ATTEMPTS) {
                        break;
                    }
                    producer.beginTransaction();
                    ProducerRecord<byte[], byte[]> r = topics.reviews().record(review.getId(), review);
                    producer.send(new ProducerRecord<>(r.topic(), partition.partition(), r.key(), r.value()));
                    producer.commitTransaction();
                    return Optional.empty();
                } catch (KafkaException e) {
                    // Fenced (another console holds the id now) or failed: let go, and the next hold() initialises
                    // again, which also settles this producer's transaction if it is still open.
                    failure = e;
                    log.debug("Decision on {} in {}: attempt {} failed: {}", review.getId(), partition, attempt, e);
                    release();
                    pause(attempt);
                }
            }
            throw failure != null ? failure : new KafkaException("no result");
        }

        /** Ensures a producer that holds the id and that the queue knows everything committed before its init. */
        private void hold() {
            if (producer != null) {
                return;
            }
            Producer<byte[], byte[]> p = cluster.producer(transactionalId);
            try {
                p.initTransactions();
                long end = cluster.committedEnd(partition);
                if (!reader.awaitRead(partition, end, WAIT)) {
                    throw new KafkaException("the console did not read " + partition + " up to " + end
                            + " within " + WAIT.toSeconds() + " s");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                p.close(Duration.ZERO);
                throw new KafkaException("interrupted", e);
            } catch (RuntimeException e) {
                p.close(Duration.ZERO);
                throw e;
            }
            producer = p;
        }

        void release() {
            if (producer != null) {
                producer.close(Duration.ZERO);
                producer = null;
            }
        }

    }

    /** Whether {@code read} is {@code written} read back (the topic keeps the time in milliseconds). */
    private static boolean sameDecision(ImageReview read, ImageReview written) {
        return read.getReviewer().equals(written.getReviewer()) && read.getDecision() == written.getDecision()
                && read.getLabel().equals(written.getLabel())
                && read.getReviewedAt().toEpochMilli() == written.getReviewedAt().toEpochMilli();
    }

    /** A short random pause, longer each time, so that two consoles do not keep fencing each other in step. */
    private static void pause(int attempt) {
        try {
            Thread.sleep(ThreadLocalRandom.current().nextLong(10, 60) * (attempt + 1));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public void close() {
        held.values().forEach(p -> {
            synchronized (p) {
                p.release();
            }
        });
        cluster.close();
    }
}
