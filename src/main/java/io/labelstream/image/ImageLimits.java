package io.labelstream.image;

/**
 * Bounds checked before an image is decoded, so a hostile file cannot make the pipeline allocate gigabytes.
 *
 * @param maxEncodedBytes largest accepted encoded image
 * @param maxPixels       largest accepted width × height, read from the file's header
 */
public record ImageLimits(long maxEncodedBytes, long maxPixels) {

    public static ImageLimits defaults() {
        return new ImageLimits(20L * 1024 * 1024, 40_000_000L);
    }
}
