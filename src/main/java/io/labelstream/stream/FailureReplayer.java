package io.labelstream.stream;

import io.labelstream.broker.KafkaClients;
import io.labelstream.broker.TopicAdmin;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.Header;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.Topic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.header.internals.RecordHeaders;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Re-publishes failed inputs, exactly as they first arrived (key, value, headers), from the failures topic to an
 * input topic, so they are labeled again once whatever made them fail is fixed. Reads committed failures up to
 * the end offsets seen at the start, so a replay that fails again does not loop. Each replayed record gets a
 * {@value #REPLAY_HEADER} header naming the failure record it came from.
 */
public final class FailureReplayer {

    public static final String REPLAY_HEADER = "labelstream.replay-of";

    /**
     * @param reasons empty: every reason
     * @param since   null: from the beginning
     * @param until   null: up to now
     */
    public record Filter(Set<FailureReason> reasons, Instant since, Instant until) {
        boolean accepts(ImageFailure f) {
            Instant at = f.getFailedAt();
            return (reasons.isEmpty() || reasons.contains(f.getReason()))
                    && (since == null || !at.isBefore(since)) && (until == null || at.isBefore(until));
        }
    }

    /** What a replay did: records republished by reason, and records skipped. */
    public record Summary(Map<FailureReason, Integer> replayed, int filteredOut, int withoutOriginal, int unreadable) {
        public int total() {
            return replayed.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    private final KafkaClients clients;

    /** @param clients of the cluster holding the failures topic, which is also where failures are replayed to */
    public FailureReplayer(KafkaClients clients) {
        this.clients = clients;
    }

    public Summary replay(Topic<ImageFailure> failuresTopic, String targetTopic, Filter filter, boolean dryRun) {
        Map<FailureReason, Integer> replayed = new EnumMap<>(FailureReason.class);
        int filteredOut = 0;
        int withoutOriginal = 0;
        int unreadable = 0;
        try (var consumer = clients.readCommittedConsumer(Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false));
             var producer = dryRun ? null
                     : clients.producer(Map.of(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, TopicAdmin.MAX_RECORD_BYTES))) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(failuresTopic.name(), Duration.ofSeconds(30))
                    .forEach(info -> partitions.add(new TopicPartition(failuresTopic.name(), info.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
                        continue;
                    }
                    ImageFailure failure;
                    try {
                        failure = failuresTopic.value(r);
                    } catch (SerializationException e) {
                        unreadable++;
                        continue;
                    }
                    if (failure == null || !filter.accepts(failure)) {
                        filteredOut++;
                        continue;
                    }
                    if (failure.getOriginalValue() == null) {
                        withoutOriginal++;
                        continue;
                    }
                    if (!dryRun) {
                        RecordHeaders headers = new RecordHeaders();
                        for (Header h : failure.getHeaders()) {
                            headers.add(h.getKey(), h.getValue() == null ? null : Records.bytes(h.getValue()));
                        }
                        headers.add(REPLAY_HEADER, (r.topic() + "/" + r.partition() + "/" + r.offset())
                                .getBytes(StandardCharsets.UTF_8));
                        producer.send(new ProducerRecord<>(targetTopic, null, null,
                                failure.getOriginalKey() == null ? null : Records.bytes(failure.getOriginalKey()),
                                Records.bytes(failure.getOriginalValue()), headers));
                    }
                    replayed.merge(failure.getReason(), 1, Integer::sum);
                }
            }
            if (producer != null) {
                producer.flush();
            }
        }
        return new Summary(replayed, filteredOut, withoutOriginal, unreadable);
    }
}
