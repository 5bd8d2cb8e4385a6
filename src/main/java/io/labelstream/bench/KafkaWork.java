package io.labelstream.bench;

import java.util.HashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What {@code labelstream run} asked of Kafka, from the Kafka client and Streams counters its /metrics exposes
 * (client-level ones: Micrometer binds Kafka's per-topic metrics only at its minute-long refresh, too late for a
 * window of seconds). CPU time cannot be split by these, since the stream thread produces, commits and fetches in
 * one loop; they say what the "stream thread" and "Kafka client I/O" columns paid for.
 *
 * @param commits         the stream threads' commits (under exactly-once, one transaction each)
 * @param commitWallNanos time the producers spent in commitTransaction (wall clock, mostly waiting on the broker)
 * @param recordsSent     records produced, to every topic
 * @param bytesSent       bytes the producers sent, requests and record batches
 * @param outputs         images labeled or failed: one labels or failures record each
 * @param fetchedBytes    bytes the stream threads' consumers fetched (not the restore consumers')
 */
record KafkaWork(double commits, double commitWallNanos, double recordsSent, double bytesSent, double outputs,
                 double fetchedBytes) {

    /** {@code name{labels} value}; Micrometer's Prometheus registry writes no timestamps. */
    private static final Pattern SAMPLE = Pattern.compile("^([a-zA-Z_:][a-zA-Z0-9_:]*)(\\{(.*)})?\\s+(\\S+)$");
    private static final String FETCHED = "kafka_consumer_fetch_manager_bytes_consumed_total";
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** From one /metrics scrape; empty text (the endpoint not up) reads as zeros. */
    static KafkaWork parse(String prometheusText) {
        Map<String, Double> totals = new HashMap<>();
        Map<String, Double> fetchedByClient = new HashMap<>();
        Map<String, Double> fetchedByTopic = new HashMap<>();
        for (String line : prometheusText.split("\n")) {
            Matcher m = SAMPLE.matcher(line);
            if (line.startsWith("#") || !m.matches()) {
                continue;
            }
            double value;
            try {
                value = Double.parseDouble(m.group(4));
            } catch (NumberFormatException e) {
                continue;
            }
            Map<String, String> labels = labels(m.group(3));
            String name = m.group(1);
            boolean counted = switch (name) {
                case "kafka_stream_thread_commit_total", "kafka_producer_txn_commit_time_ns_total",
                     "kafka_producer_record_send_total", "kafka_producer_outgoing_byte_total",
                     "labelstream_images_labeled_total", "labelstream_images_failed_total" -> true;
                default -> false;
            };
            String clientId = labels.getOrDefault("client_id", "");
            if (name.equals(FETCHED) && Double.isFinite(value) && !clientId.endsWith("-restore-consumer")) {
                // Restore consumers read changelogs, not input, so they are left out.
                (labels.containsKey("topic") ? fetchedByTopic : fetchedByClient).merge(clientId, value, Double::sum);
            }
            if (counted && Double.isFinite(value)) {
                totals.merge(name.startsWith("labelstream_images_") ? "outputs" : name, value, Double::sum);
            }
        }
        // At its refresh Micrometer binds the per-topic series and then drops the client-level one of the same
        // name (a name keeps one set of tag keys), so a scrape has either for a client, or, in between, both.
        double fetched = fetchedByClient.values().stream().mapToDouble(Double::doubleValue).sum();
        for (var byTopics : fetchedByTopic.entrySet()) {
            if (!fetchedByClient.containsKey(byTopics.getKey())) {
                fetched += byTopics.getValue();
            }
        }
        return new KafkaWork(totals.getOrDefault("kafka_stream_thread_commit_total", 0.0),
                totals.getOrDefault("kafka_producer_txn_commit_time_ns_total", 0.0),
                totals.getOrDefault("kafka_producer_record_send_total", 0.0),
                totals.getOrDefault("kafka_producer_outgoing_byte_total", 0.0),
                totals.getOrDefault("outputs", 0.0),
                fetched);
    }

    KafkaWork minus(KafkaWork earlier) {
        return new KafkaWork(commits - earlier.commits, commitWallNanos - earlier.commitWallNanos,
                recordsSent - earlier.recordsSent, bytesSent - earlier.bytesSent, outputs - earlier.outputs,
                fetchedBytes - earlier.fetchedBytes);
    }

    /**
     * Records produced per image beyond its labels or failures record: the state stores' changelogs (the batch
     * buffer's image bytes and tombstones; the dedup cache's when it is on) and flagged records when rules are set.
     */
    double storeRecordsPerImage() {
        return Math.max(0, recordsSent - outputs) / images();
    }

    double imagesPerCommit() {
        return outputs / Math.max(1, commits);
    }

    double sentKiBPerImage() {
        return bytesSent / 1024 / images();
    }

    double fetchedKiBPerImage() {
        return fetchedBytes / 1024 / images();
    }

    private double images() {
        return Math.max(1, outputs);
    }

    /** True when nothing was read: the scrape failed or the metrics are not bound. */
    boolean isEmpty() {
        return commits == 0 && recordsSent == 0 && fetchedBytes == 0;
    }

    private static Map<String, String> labels(String text) {
        Map<String, String> labels = new HashMap<>();
        if (text != null) {
            Matcher m = LABEL.matcher(text);
            while (m.find()) {
                labels.put(m.group(1), m.group(2));
            }
        }
        return labels;
    }
}
