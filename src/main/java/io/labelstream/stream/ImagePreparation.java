package io.labelstream.stream;

import io.labelstream.image.ReferenceFetcher;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.InlineImage;

import java.util.concurrent.CompletableFuture;

/**
 * The asynchronous part of intake, apart from the stream thread: fetches an image given by reference (within the
 * fetcher's own time limit, outside any transaction) and computes the digest of the bytes for the dedup cache. Inline images
 * with dedup off need neither and skip this stage.
 */
final class ImagePreparation {

    /** Null when no references are allowed: intake refuses them. */
    private final ReferenceFetcher fetcher;
    /** Whether images are hashed for the dedup cache. */
    private final boolean dedup;

    ImagePreparation(ReferenceFetcher fetcher, boolean dedup) {
        this.fetcher = fetcher;
        this.dedup = dedup;
    }

    boolean fetchesReferences() {
        return fetcher != null;
    }

    /** True when the event's image must be fetched or hashed before it can join a batch. */
    boolean needed(ImageEvent event) {
        return event.getImage() instanceof ImageReference || dedup;
    }

    /** Never completes exceptionally: whatever goes wrong is the image's own failure, with the reason. */
    CompletableFuture<BatchItem.Prepared> prepare(ImageEvent event) {
        CompletableFuture<BatchItem.Prepared> prepared;
        if (event.getImage() instanceof ImageReference reference) {
            // Hashing runs on the fetch thread that got the bytes.
            prepared = fetcher.fetchAsync(reference).thenApply(result -> result instanceof ReferenceFetcher.Fetched
                    fetched ? image(fetched.bytes()) : refused((ReferenceFetcher.Refused) result));
        } else {
            byte[] bytes = Records.bytes(((InlineImage) event.getImage()).getData());
            // Short and CPU-bound: the JVM's common pool, sized to the cores, rather than a pool of our own to close.
            prepared = CompletableFuture.supplyAsync(() -> image(bytes));
        }
        return prepared.exceptionally(e -> new BatchItem.Refused(FailureReason.FETCH_FAILED,
                "preparing the image failed unexpectedly: " + (e.getCause() != null ? e.getCause() : e)));
    }

    private BatchItem.Prepared image(byte[] bytes) {
        return new BatchItem.Image(bytes, dedup ? DedupCache.contentDigest(bytes) : null);
    }

    private static BatchItem.Prepared refused(ReferenceFetcher.Refused refused) {
        return new BatchItem.Refused(refused.reason(), refused.message());
    }
}
