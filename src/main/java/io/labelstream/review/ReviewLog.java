package io.labelstream.review;

import io.labelstream.broker.KafkaClients;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.KafkaException;

import java.util.Map;
import java.util.UUID;

/**
 * Writes decisions to the reviews topic, keyed by the image's id, each in a transaction of its own: a decision
 * either is on the topic once, for read_committed readers, or not at all (and the image goes back to the queue).
 */
final class ReviewLog implements AutoCloseable {

    private final KafkaProducer<byte[], byte[]> producer;
    private final Topics topics;

    ReviewLog(KafkaClients clients, Topics topics) {
        this.topics = topics;
        this.producer = clients.producer(Map.of(ProducerConfig.TRANSACTIONAL_ID_CONFIG,
                "labelstream-review-" + UUID.randomUUID()));
        producer.initTransactions();
    }

    /** @throws KafkaException when the decision could not be written; it was not */
    synchronized void write(ImageReview review) {
        producer.beginTransaction();
        try {
            producer.send(topics.reviews().record(review.getId(), review));
            producer.commitTransaction();
        } catch (KafkaException e) {
            producer.abortTransaction();
            throw e;
        }
    }

    @Override
    public void close() {
        producer.close();
    }
}
