package io.labelstream.schema;

import java.net.URI;
import java.nio.ByteBuffer;
import java.time.Instant;

/**
 * How labelstream's own producers (produce, demo, the benchmarks, the soak) make an {@link ImageEvent}: the image
 * inline or by reference, stamped now. Source, attributes or another event time go on the returned builder.
 */
public final class ImageEvents {

    private ImageEvents() {
    }

    /** An event carrying the encoded image itself; {@code contentType} may be null (the pipeline sniffs it). */
    public static ImageEvent.Builder inline(String id, byte[] image, String contentType) {
        return event(id, new InlineImage(ByteBuffer.wrap(image), contentType));
    }

    /**
     * An event naming where the pipeline fetches the image from (a claim check), for images too large to carry
     * or already stored elsewhere; {@code contentType} and {@code sizeBytes} may be null.
     */
    public static ImageEvent.Builder reference(String id, URI uri, String contentType, Long sizeBytes) {
        return reference(id, uri.toString(), contentType, sizeBytes);
    }

    /** For references that are not java.net.URIs: s3://bucket/key keeps its key as written. */
    public static ImageEvent.Builder reference(String id, String uri, String contentType, Long sizeBytes) {
        return event(id, new ImageReference(uri, contentType, sizeBytes, null));
    }

    private static ImageEvent.Builder event(String id, Object image) {
        return ImageEvent.newBuilder().setId(id).setImage(image).setEventTime(Instant.now());
    }
}
