package io.labelstream.schema;

import io.labelstream.schema.internal.BufferedRecord;

/**
 * The serdes of labelstream's topics and state stores, one instance each (they are thread-safe). Named apart from
 * Kafka's own {@code Serdes}, which the topology uses beside these for its store keys.
 */
public final class AvroSerdes {

    private AvroSerdes() {
    }

    public static AvroSerde<ImageEvent> imageEvent() {
        return new AvroSerde<>(ImageEvent.class, ImageEvent.getClassSchema());
    }

    public static AvroSerde<ImageLabels> imageLabels() {
        return new AvroSerde<>(ImageLabels.class, ImageLabels.getClassSchema());
    }

    public static AvroSerde<ImageLabelRow> imageLabelRow() {
        return new AvroSerde<>(ImageLabelRow.class, ImageLabelRow.getClassSchema());
    }

    public static AvroSerde<ImageLabelRank> imageLabelRank() {
        return new AvroSerde<>(ImageLabelRank.class, ImageLabelRank.getClassSchema());
    }

    public static AvroSerde<ImageReview> imageReview() {
        return new AvroSerde<>(ImageReview.class, ImageReview.getClassSchema());
    }

    public static AvroSerde<ImageFailure> imageFailure() {
        return new AvroSerde<>(ImageFailure.class, ImageFailure.getClassSchema());
    }

    public static AvroSerde<io.labelstream.schema.internal.DedupEntry> dedupEntry() {
        return new AvroSerde<>(io.labelstream.schema.internal.DedupEntry.class,
                io.labelstream.schema.internal.DedupEntry.getClassSchema());
    }

    public static AvroSerde<BufferedRecord> bufferedRecord() {
        return new AvroSerde<>(BufferedRecord.class, BufferedRecord.getClassSchema());
    }
}
