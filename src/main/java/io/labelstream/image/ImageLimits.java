package io.labelstream.image;

import io.labelstream.schema.FailureReason;

/**
 * Bounds checked before an image is decoded, so a hostile file cannot make the pipeline allocate gigabytes.
 *
 * @param maxEncodedBytes largest accepted encoded image
 * @param maxPixels       largest accepted width × height, read from the file's header
 */
public record ImageLimits(long maxEncodedBytes, long maxPixels) {

    /** image.max.bytes and image.max.pixels, as every decoder of a labelstream process takes them. */
    public static ImageLimits of(io.labelstream.config.LabelstreamConfig config) {
        return new ImageLimits(config.get(io.labelstream.config.Settings.IMAGE_MAX_BYTES),
                config.get(io.labelstream.config.Settings.IMAGE_MAX_PIXELS));
    }

    public static ImageLimits defaults() {
        return new ImageLimits(20L * 1024 * 1024, 40_000_000L);
    }

    /** Refuses a header's size that is empty or over {@link #maxPixels()}. */
    void checkPixels(long width, long height) throws ImageRejectedException {
        if (width <= 0 || height <= 0) {
            throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE,
                    "image header gives a size of " + width + "×" + height);
        }
        if (width * height > maxPixels) {
            throw new ImageRejectedException(FailureReason.TOO_LARGE, "image is " + width + "×" + height
                    + " = " + (width * height) + " pixels; the limit (image.max.pixels) is " + maxPixels);
        }
    }
}
