package io.labelstream.review;

import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ActivationOverlay;
import io.labelstream.image.FetchSettings;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.image.ReferenceFetcher;
import io.labelstream.image.SourceRegion;
import io.labelstream.schema.ActivationMap;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.InlineImage;
import io.labelstream.schema.SourceCoordinates;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.TopicPartition;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * A flagged image's pixels, for the console and the export: read from its input record at the record's source
 * coordinates, inline or fetched by reference through the same guarded fetcher as {@code run} (the browser never
 * fetches a producer's URL), decoded within the image limits and written again as PNG, so no byte a producer chose
 * reaches the browser.
 */
public final class ReviewImages {

    private static final Duration READ_TIMEOUT = Duration.ofSeconds(30);

    private final KafkaClients clients;
    private final Topics topics;
    private final ReferenceFetcher fetcher;
    private final ImageDecoder decoder;

    /** @param fetcher the fetch.* settings' fetcher; null when they allow no references */
    public ReviewImages(KafkaClients clients, Topics topics, ReferenceFetcher fetcher, ImageDecoder decoder) {
        this.clients = clients;
        this.topics = topics;
        this.fetcher = fetcher;
        this.decoder = decoder;
    }

    /** As the configuration says: its cluster, fetch.* settings and image limits. */
    public static ReviewImages from(LabelstreamConfig config, KafkaClients clients, Topics topics) {
        return new ReviewImages(clients, topics, FetchSettings.fetcher(config),
                new ImageDecoder(ImageLimits.of(config)));
    }

    /**
     * The image's encoded bytes as its producer sent them.
     *
     * @throws IOException naming the input record's place when it is gone, unreadable or not an image event
     */
    public byte[] encoded(SourceCoordinates at) throws IOException {
        ImageEvent event;
        try {
            event = topics.inputNamed(at.getTopic()).value(inputRecord(at));
        } catch (KafkaException e) {
            throw new IOException("cannot read the image event at " + place(at) + ": " + e, e);
        }
        if (event.getImage() instanceof InlineImage inline) {
            return bytes(inline.getData());
        }
        if (fetcher == null) {
            throw new IOException(event.getId() + " is a reference (" + ((ImageReference) event.getImage()).getUri()
                    + ") and the fetch.* settings allow none");
        }
        ReferenceFetcher.Result result = fetcher.fetch((ImageReference) event.getImage());
        if (result instanceof ReferenceFetcher.Refused refused) {
            throw new IOException("cannot fetch " + event.getId() + ": " + refused.reason() + " "
                    + refused.message());
        }
        return ((ReferenceFetcher.Fetched) result).bytes();
    }

    /** The image as PNG, as its producer sent it (upright, decoded within the limits). */
    public byte[] plainPng(SourceCoordinates at) throws IOException {
        return png(decoded(at));
    }

    /** The image as PNG, with the map of the class its first rule fired on laid over it when the record has one. */
    public byte[] png(ImageLabels item) throws IOException {
        BufferedImage image = decoded(item.getSource());
        ActivationMap map = item.getFlags().isEmpty() ? null : item.getFlags().get(0).getActivation();
        if (map != null) {
            image = ActivationOverlay.render(image, map.getRows(), map.getCols(), bytes(map.getCells()),
                    new SourceRegion(map.getBox().getX(), map.getBox().getY(), map.getBox().getWidth(),
                            map.getBox().getHeight()));
        }
        return png(image);
    }

    private BufferedImage decoded(SourceCoordinates at) throws IOException {
        try {
            return decoder.decode(encoded(at));
        } catch (ImageRejectedException e) {
            throw new IOException("cannot decode the image at " + place(at) + ": " + e.getMessage(), e);
        }
    }

    private static byte[] png(BufferedImage image) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ImageIO.write(image, "png", png);
        return png.toByteArray();
    }

    private ConsumerRecord<byte[], byte[]> inputRecord(SourceCoordinates at) throws IOException {
        TopicPartition partition = new TopicPartition(at.getTopic(), at.getPartition());
        try (KafkaConsumer<byte[], byte[]> consumer = clients.readCommittedConsumer(
                Map.of(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1))) {
            consumer.assign(List.of(partition));
            // Below the log's start the consumer would reset and wait for newer records: say so at once.
            if (consumer.beginningOffsets(List.of(partition), READ_TIMEOUT).getOrDefault(partition, 0L)
                    > at.getOffset()) {
                throw gone(at);
            }
            consumer.seek(partition, at.getOffset());
            long deadline = System.nanoTime() + READ_TIMEOUT.toNanos();
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.offset() != at.getOffset()) {
                        throw gone(at);
                    }
                    if (r.value() == null) {
                        throw new IOException("the input record at " + place(at) + " has no value");
                    }
                    return r;
                }
            }
        }
        throw new IOException("could not read the input record at " + place(at) + " within "
                + READ_TIMEOUT.toSeconds() + " s");
    }

    private static IOException gone(SourceCoordinates at) {
        return new IOException("the input record at " + place(at) + " is gone (retention or compaction)");
    }

    private static String place(SourceCoordinates at) {
        return at.getTopic() + "/" + at.getPartition() + "/" + at.getOffset();
    }

    private static byte[] bytes(ByteBuffer buffer) {
        byte[] b = new byte[buffer.remaining()];
        buffer.duplicate().get(b);
        return b;
    }
}
