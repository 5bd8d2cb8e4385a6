package io.labelstream.bench;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Lines as a running {@code labelstream run}'s /metrics wrote them (Micrometer's Prometheus registry). */
class KafkaWorkTest {

    private static String scrape(double commits, double sent, double bytes, double labeled, double fetched) {
        return String.join("\n",
                "# HELP kafka_stream_thread_commit_total The total number of calls to commit",
                "# TYPE kafka_stream_thread_commit_total counter",
                "kafka_stream_thread_commit_total{kafka_version=\"4.4.0\",thread_id=\"app-1-StreamThread-1\"} "
                        + commits,
                "kafka_producer_txn_commit_time_ns_total{client_id=\"app-1-StreamThread-1-producer\","
                        + "kafka_version=\"4.4.0\"} 1.46531637E8",
                "kafka_producer_record_send_total{client_id=\"app-1-StreamThread-1-producer\",kafka_version=\"4.4.0\"} "
                        + sent,
                "kafka_producer_record_send_rate{client_id=\"app-1-StreamThread-1-producer\",kafka_version=\"4.4.0\"} "
                        + "12.5",
                "kafka_producer_outgoing_byte_total{client_id=\"app-1-StreamThread-1-producer\",kafka_version=\"4.4.0\"} "
                        + bytes,
                "kafka_consumer_fetch_manager_bytes_consumed_total{client_id=\"app-1-StateUpdater-1-restore-consumer\","
                        + "kafka_version=\"4.4.0\"} 5000.0",
                "kafka_consumer_fetch_manager_bytes_consumed_total{client_id=\"app-1-StreamThread-1-consumer\","
                        + "kafka_version=\"4.4.0\"} " + fetched,
                // the per-topic series Micrometer adds at its refresh repeats the client-level one
                "kafka_consumer_fetch_manager_bytes_consumed_total{client_id=\"app-1-StreamThread-1-consumer\","
                        + "kafka_version=\"4.4.0\",topic=\"in\"} " + fetched,
                "labelstream_images_failed_total{reason=\"TOO_LARGE\"} 1.0",
                "labelstream_images_failed_total{reason=\"UNKNOWN\"} 0.0",
                "labelstream_images_labeled_total " + labeled,
                "labelstream_inference_seconds_max NaN");
    }

    @Test
    void readsTheCountersAndTakesTheirDifference() {
        KafkaWork before = KafkaWork.parse(scrape(4, 10, 20_000, 3, 10_240));
        KafkaWork after = KafkaWork.parse(scrape(14, 90, 430_000, 39, 481_280));
        KafkaWork window = after.minus(before);

        assertThat(window.commits()).isEqualTo(10);
        assertThat(window.commitWallNanos()).isZero();
        assertThat(window.outputs()).isEqualTo(36);
        assertThat(window.imagesPerCommit()).isCloseTo(3.6, within(1e-9));
        assertThat(window.storeRecordsPerImage()).isCloseTo((80 - 36) / 36.0, within(1e-9));
        assertThat(window.sentKiBPerImage()).isCloseTo(410_000 / 1024.0 / 36, within(1e-9));
        assertThat(window.fetchedKiBPerImage()).isCloseTo(471_040 / 1024.0 / 36, within(1e-9));
        assertThat(window.isEmpty()).isFalse();
    }

    @Test
    void afterMicrometersRefreshTheFetchedBytesAreThePerTopicSeries() {
        KafkaWork before = KafkaWork.parse(scrape(4, 10, 20_000, 3, 10_240));
        // the client-level series is gone once the per-topic ones are bound: two input topics here
        String refreshed = scrape(14, 90, 430_000, 39, 0).lines()
                .filter(l -> !l.startsWith("kafka_consumer_fetch_manager_bytes_consumed_total"))
                .collect(java.util.stream.Collectors.joining("\n"))
                + "\nkafka_consumer_fetch_manager_bytes_consumed_total{client_id=\"app-1-StreamThread-1-consumer\","
                + "kafka_version=\"4.4.0\",topic=\"in\"} 400000.0"
                + "\nkafka_consumer_fetch_manager_bytes_consumed_total{client_id=\"app-1-StreamThread-1-consumer\","
                + "kafka_version=\"4.4.0\",topic=\"in-2\"} 81280.0"
                + "\nkafka_consumer_fetch_manager_bytes_consumed_total{client_id=\"app-1-StateUpdater-1-restore-consumer\","
                + "kafka_version=\"4.4.0\",topic=\"app-buffer-changelog\"} 9000.0";

        KafkaWork window = KafkaWork.parse(refreshed).minus(before);

        assertThat(window.fetchedKiBPerImage()).isCloseTo(471_040 / 1024.0 / 36, within(1e-9));
    }

    @Test
    void aFailedScrapeReadsAsNothing() {
        KafkaWork none = KafkaWork.parse("");
        assertThat(none.isEmpty()).isTrue();
        assertThat(none.storeRecordsPerImage()).isZero();
    }
}
