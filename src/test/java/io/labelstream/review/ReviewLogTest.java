package io.labelstream.review;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.producer.MockProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The lock's steps without a broker: a stand-in cluster whose producers fence the one that held their
 * transactional.id before, as the transaction coordinator does, and a stand-in reader that "reads" what the test
 * says was committed meanwhile.
 */
class ReviewLogTest {

    /** Finer than the topic keeps (milliseconds): a decision read back is still known as the one written. */
    private static final Instant AT = Instant.parse("2026-01-01T00:00:00.123456789Z");

    /** Producers by creation order; initialising one fences the one that held its transactional.id before. */
    private static final class StandInCluster implements ReviewLog.Cluster {
        final List<MockProducer<byte[], byte[]>> made = new ArrayList<>();
        final Map<String, MockProducer<byte[], byte[]>> holders = new HashMap<>();
        Consumer<MockProducer<byte[], byte[]>> onMake = p -> { };
        boolean closed;

        @Override
        public Producer<byte[], byte[]> producer(String transactionalId) {
            MockProducer<byte[], byte[]> p = new MockProducer<>(true, null, new ByteArraySerializer(),
                    new ByteArraySerializer()) {
                @Override
                public void initTransactions() {
                    super.initTransactions();
                    MockProducer<byte[], byte[]> before = holders.put(transactionalId, this);
                    if (before != null && !before.closed()) {
                        before.fenceProducer();
                    }
                }
            };
            made.add(p);
            onMake.accept(p);
            return p;
        }

        @Override
        public int partitions(String topic) {
            return 1;
        }

        @Override
        public long committedEnd(TopicPartition partition) {
            return 0;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    private final StandInCluster cluster = new StandInCluster();
    private final Topics topics = Topics.forConfig(LabelstreamConfig.of(Map.of()));
    /** What the console knows: the first decision per image. */
    private final Map<String, ImageReview> known = new HashMap<>();
    /** Committed by others since the console last read; the next read takes them in. */
    private final List<ImageReview> committedElsewhere = new ArrayList<>();
    private int reads;
    private final ReviewLog log = new ReviewLog(topics, cluster, (partition, offset, timeout) -> {
        reads++;
        committedElsewhere.forEach(r -> known.putIfAbsent(r.getId(), r));
        committedElsewhere.clear();
        return true;
    }, id -> Optional.ofNullable(known.get(id)));

    private static ImageReview review(String id, String decision, String reviewer) {
        return Decisions.review(ReviewQueueTest.flagged(id), decision, null, reviewer, AT);
    }

    private static List<String> keys(List<ProducerRecord<byte[], byte[]>> records) {
        return records.stream().map(r -> new String(r.key(), StandardCharsets.UTF_8)).toList();
    }

    private static ImageReview decoded(byte[] value) {
        try {
            return AvroSerdes.imageReview().decode(value);
        } catch (Exception e) {
            throw new AssertionError("not an ImageReview", e);
        }
    }

    @AfterEach
    void close() {
        log.close();
        assertThat(cluster.closed).isTrue();
    }

    @Test
    void aConsoleKeepsItsProducerBetweenDecisionsWhileNoOneElseTakesTheId() {
        assertThat(log.write(review("a", "confirmed", "ana"))).isEmpty();
        assertThat(log.write(review("b", "dismissed", "ana"))).isEmpty();
        assertThat(cluster.made).hasSize(1);
        assertThat(keys(cluster.made.get(0).history())).containsExactly("a", "b");
        assertThat(reads).as("read to the end once, after the init").isEqualTo(1);
        assertThat(cluster.made.get(0).history()).allSatisfy(r -> assertThat(r.partition()).isZero());
    }

    @Test
    void fencedByAnotherConsoleThatDecidedFirstTheDecisionIsNotWrittenAndTheFirstIsTheAnswer() {
        assertThat(log.write(review("a", "confirmed", "ana"))).isEmpty();
        // Bo's console takes the id and commits its decision on b.
        String id = "labelstream-review-" + topics.reviews().name() + "-0";
        cluster.producer(id).initTransactions();
        ImageReview bos = review("b", "dismissed", "bo");
        committedElsewhere.add(bos);

        assertThat(log.write(review("b", "confirmed", "ana"))).contains(bos);
        assertThat(cluster.made).hasSize(3);
        assertThat(cluster.made.get(0).closed()).as("the fenced producer").isTrue();
        MockProducer<byte[], byte[]> retaken = cluster.made.get(2);
        assertThat(retaken.history()).isEmpty();
        assertThat(retaken.uncommittedRecords()).isEmpty();
        assertThat(keys(cluster.made.get(0).history())).containsExactly("a");
    }

    @Test
    void fencedByAConsoleWhoseTransactionWasAbortedTheDecisionIsWrittenOnTheRetry() {
        assertThat(log.write(review("a", "confirmed", "ana"))).isEmpty();
        cluster.producer("labelstream-review-" + topics.reviews().name() + "-0").initTransactions();

        assertThat(log.write(review("b", "confirmed", "ana"))).isEmpty();
        assertThat(keys(cluster.made.get(2).history())).containsExactly("b");
        assertThat(reads).isEqualTo(2);
    }

    @Test
    void aCommitWithAnUnclearOutcomeThatWasCommittedAfterAllIsNotWrittenAgain() {
        cluster.onMake = p -> {
            if (cluster.made.size() == 1) {
                p.commitTransactionException = new TimeoutException("no answer to EndTxn");
            }
        };
        ImageReview anas = Decisions.review(ReviewQueueTest.flagged("a"), "relabeled", "crimson", "ana", AT);
        // The coordinator had the commit: the console reads it back after taking the id again.
        cluster.onMake = cluster.onMake.andThen(p -> {
            if (cluster.made.size() == 2) {
                for (ProducerRecord<byte[], byte[]> r : cluster.made.get(0).uncommittedRecords()) {
                    committedElsewhere.add(decoded(r.value()));
                }
            }
        });

        assertThat(log.write(anas)).as("written, once").isEmpty();
        assertThat(cluster.made).hasSize(2);
        assertThat(cluster.made.get(1).history()).isEmpty();
    }

    @Test
    void aConsoleFencedAtEveryTryGivesUpAndWritesNothing() {
        cluster.onMake = p -> p.beginTransactionException = new ProducerFencedException("taken again");

        assertThatThrownBy(() -> log.write(review("a", "confirmed", "ana")))
                .isInstanceOf(ProducerFencedException.class);
        assertThat(cluster.made).hasSize(ReviewLog.ATTEMPTS + 1);
        assertThat(cluster.made).allSatisfy(p -> assertThat(p.history()).isEmpty());
    }
}
