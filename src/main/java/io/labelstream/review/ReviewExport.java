package io.labelstream.review;

import io.labelstream.broker.KafkaClients;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.ReviewDecision;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.SerializationException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code review export}: the reviewed images as training data, one folder per label, the layout
 * {@code model adapt --train} reads: a confirmed image under its rule's label, a relabeled one under its new label,
 * a dismissed one under the negative label. Each image's first decision counts; the images are PNGs named by id.
 */
public final class ReviewExport {

    /** Images written per folder, and decisions whose image could not be had (with why). */
    public record Summary(Map<String, Integer> imagesByLabel, Map<String, String> missing) {
    }

    private ReviewExport() {
    }

    /** The folder a decision's image goes into, as a file name: the label, path separators made harmless. */
    static String folder(ImageReview review, String negativeLabel) {
        String label = review.getDecision() == ReviewDecision.DISMISSED ? negativeLabel : review.getLabel();
        String safe = label.strip().replaceAll("[/\\\\\\x00-\\x1f]", "_");
        return safe.isEmpty() || safe.startsWith(".") ? "_" + safe : safe;
    }

    public static Summary export(KafkaClients clients, Topics topics, ReviewImages images, Path out,
                                 String negativeLabel) throws IOException {
        Map<String, Integer> written = new TreeMap<>();
        Map<String, String> missing = new TreeMap<>();
        for (ImageReview review : firstDecisions(clients, topics).values()) {
            String folder = folder(review, negativeLabel);
            byte[] png;
            try {
                png = images.plainPng(review.getSource());
            } catch (IOException e) {
                missing.put(review.getId(), e.getMessage());
                continue;
            }
            Path dir = Files.createDirectories(out.resolve(folder));
            Files.write(dir.resolve(ReviewExport.fileName(review.getId())), png);
            written.merge(folder, 1, Integer::sum);
        }
        return new Summary(written, missing);
    }

    /** An id as a file name that stays inside its folder. */
    static String fileName(String id) {
        String safe = id.replaceAll("[^A-Za-z0-9._-]", "_");
        return (safe.startsWith(".") ? "_" + safe : safe) + ".png";
    }

    /** Every image's first decision on the reviews topic as it is now, read_committed. */
    static Map<String, ImageReview> firstDecisions(KafkaClients clients, Topics topics) {
        Map<String, ImageReview> first = new LinkedHashMap<>();
        String name = topics.reviews().name();
        try (var consumer = clients.readCommittedConsumer(Map.of(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false))) {
            List<TopicPartition> partitions = new ArrayList<>();
            consumer.partitionsFor(name, Duration.ofSeconds(30))
                    .forEach(info -> partitions.add(new TopicPartition(name, info.partition())));
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp))) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.value() == null || r.offset() >= end.get(new TopicPartition(r.topic(), r.partition()))) {
                        continue;
                    }
                    try {
                        ImageReview review = topics.reviews().value(r);
                        first.putIfAbsent(review.getId(), review);
                    } catch (SerializationException e) {
                        // Not a review: nothing to export from it.
                    }
                }
            }
        }
        return first;
    }
}
