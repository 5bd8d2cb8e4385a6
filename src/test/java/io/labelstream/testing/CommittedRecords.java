package io.labelstream.testing;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;

import static org.awaitility.Awaitility.await;

/**
 * Everything committed to some topics (a pipeline's outputs, mostly), read from their beginning by one
 * read_committed consumer on the caller's thread, with the outputs of {@link TopicTraffic#publishMarkers markers}
 * left out.
 *
 * <p>How a test knows that nothing more will come (no late duplicate, no stray failure): {@link #awaitAll} puts a
 * marker behind everything already on each input partition and reads until every marker's output is in. A task
 * emits strictly in input order, and its outputs commit in that order, so by then every output of every record
 * ahead of a marker has been committed; reading on to the topics' end offsets (for a read_committed reader, the
 * last stable offsets) then takes in whatever other partitions still held. No fixed pause is involved.
 */
public final class CommittedRecords implements AutoCloseable {

    /** How long one evaluation of a wait polls the consumer. */
    private static final Duration POLL = Duration.ofMillis(200);

    private final TopicTraffic traffic;
    private final KafkaConsumer<byte[], byte[]> consumer;
    private final List<ConsumerRecord<byte[], byte[]>> records = new ArrayList<>();
    private final Set<String> markersSeen = new HashSet<>();

    CommittedRecords(TopicTraffic traffic, KafkaConsumer<byte[], byte[]> consumer) {
        this.traffic = traffic;
        this.consumer = consumer;
    }

    /** One poll of the consumer: the records it brought, markers left out. */
    public List<ConsumerRecord<byte[], byte[]>> poll() {
        List<ConsumerRecord<byte[], byte[]>> fresh = new ArrayList<>();
        for (ConsumerRecord<byte[], byte[]> r : consumer.poll(POLL)) {
            if (TopicTraffic.isMarker(r.key())) {
                markersSeen.add(TopicTraffic.keyOf(r.key()));
            } else {
                fresh.add(r);
            }
        }
        records.addAll(fresh);
        return fresh;
    }

    /** Every record read so far, markers left out, in the order they were read. */
    public List<ConsumerRecord<byte[], byte[]>> records() {
        return Collections.unmodifiableList(records);
    }

    /** Reads until at least {@code count} records are in (more may be). */
    public CommittedRecords awaitAtLeast(int count, Duration atMost, Supplier<Throwable> abortIf) {
        await("at least " + count + " records on " + consumer.assignment()).atMost(atMost)
                .pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                .failFast("the pipeline failed while the test waited for its output", () -> abortIf(abortIf))
                .until(() -> {
                    poll();
                    return records.size() >= count;
                });
        return this;
    }

    /**
     * Publishes a marker behind everything now on {@code input}, then reads until every marker's output and at
     * least {@code count} records are in, then to the end offsets: all that the pipeline will ever write for what
     * was published before this call is then here, duplicates included. The markers come out on the failures
     * topic, so it must be among the topics read.
     */
    public CommittedRecords awaitAll(String input, int count, Duration atMost, Supplier<Throwable> abortIf) {
        Set<String> markers = traffic.publishMarkers(input);
        await("every marker on " + input + " and at least " + count + " records on " + consumer.assignment())
                .atMost(atMost).pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                .failFast("the pipeline failed while the test waited for its output", () -> abortIf(abortIf))
                .until(() -> {
                    poll();
                    return markersSeen.containsAll(markers) && records.size() >= count;
                });
        return readToEnd(atMost);
    }

    /** Reads up to the end offsets the topics have now (for a read_committed reader: their last stable offsets). */
    public CommittedRecords readToEnd(Duration atMost) {
        Map<TopicPartition, Long> ends = consumer.endOffsets(consumer.assignment());
        await("the end offsets " + ends).atMost(atMost)
                .pollInSameThread().pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(1))
                .until(() -> {
                    if (ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue())) {
                        return true;
                    }
                    poll();
                    return false;
                });
        return this;
    }

    private static void abortIf(Supplier<Throwable> abortIf) {
        Throwable abort = abortIf.get();
        if (abort != null) {
            throw new AssertionError("pipeline failed while waiting for output", abort);
        }
    }

    @Override
    public void close() {
        consumer.close();
    }
}
