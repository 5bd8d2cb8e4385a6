package io.labelstream.stream;

import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.InlineImage;
import io.labelstream.schema.RecordDecodeException;
import io.labelstream.schema.internal.BufferedRecord;

/**
 * Turns a buffered record into its {@link BatchItem}: decodes the event and checks it, on the stream thread (Avro
 * decoding is fast and needs no I/O). A record that is not a usable event is failed here, with the reason; an
 * inline image is ready at once, unless it must be hashed for the dedup cache; anything else starts its
 * {@link ImagePreparation}.
 */
final class Intake {

    private final AvroSerde<ImageEvent> events;
    private final ImagePreparation preparation;

    Intake(AvroSerde<ImageEvent> events, ImagePreparation preparation) {
        this.events = events;
        this.preparation = preparation;
    }

    BatchItem admit(BufferedRecord record) {
        ImageEvent event;
        try {
            event = events.decode(Records.value(record));
        } catch (RecordDecodeException e) {
            return BatchItem.failed(record, null, e.reason(), e.getMessage());
        }
        if (event.getId() == null || event.getId().isBlank()) {
            return BatchItem.failed(record, event, FailureReason.INVALID_EVENT, "event has an empty id");
        }
        if (event.getImage() instanceof ImageReference && !preparation.fetchesReferences()) {
            return BatchItem.failed(record, event, FailureReason.REFERENCE_REFUSED, "event refers to its image by "
                    + "URI, but no references are allowed here (set fetch.file.roots or fetch.http.hosts)");
        }
        if (!preparation.needed(event)) {
            return BatchItem.ready(record, event, Records.bytes(((InlineImage) event.getImage()).getData()));
        }
        return BatchItem.preparing(record, event, preparation.prepare(event));
    }
}
