package io.labelstream.stream;

import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.InlineImage;
import io.labelstream.schema.RecordDecodeException;
import io.labelstream.schema.ValueSerde;
import io.labelstream.schema.WriterSchemaPending;
import io.labelstream.schema.internal.BufferedRecord;

/**
 * Turns a buffered record into its {@link BatchItem}: decodes the event and checks it, on the stream thread (Avro
 * decoding is fast and needs no I/O). A record that is not a usable event is failed here, with the reason; an
 * inline image is ready at once, unless it must be hashed for the dedup cache; anything else starts its
 * {@link ImagePreparation}. A record whose writer schema must first come from the schema registry waits for it
 * ({@link BatchItem.Stage#DECODING}) and is taken in again, by {@link #decode}, once it has come.
 */
final class Intake {

    private final ValueSerde<ImageEvent> events;
    private final ImagePreparation preparation;

    Intake(ValueSerde<ImageEvent> events, ImagePreparation preparation) {
        this.events = events;
        this.preparation = preparation;
    }

    BatchItem admit(BufferedRecord record) {
        return decode(BatchItem.arrived(record));
    }

    /** Decodes a record that has arrived, or whose writer schema it waited for has. */
    BatchItem decode(BatchItem item) {
        ImageEvent event;
        try {
            event = events.decodeIfKnown(Records.value(item.record()));
        } catch (RecordDecodeException e) {
            return item.fail(e.reason(), e.getMessage());
        } catch (WriterSchemaPending pending) {
            return item.awaitWriterSchema(pending.settled());
        }
        item.decoded(event);
        if (event.getId() == null || event.getId().isBlank()) {
            return item.fail(FailureReason.INVALID_EVENT, "event has an empty id");
        }
        if (event.getImage() instanceof ImageReference && !preparation.fetchesReferences()) {
            return item.fail(FailureReason.REFERENCE_REFUSED, "event refers to its image by URI, but no references "
                    + "are allowed here (set fetch.file.roots or fetch.http.hosts)");
        }
        if (!preparation.needed(event)) {
            return item.ready(Records.bytes(((InlineImage) event.getImage()).getData()));
        }
        return item.preparing(preparation.prepare(event));
    }
}
