package io.labelstream.image;

/**
 * A rectangle of a source image, in its pixel coordinates (origin top left, after EXIF orientation): where the part
 * a model saw lies, so that what is computed on the model's grid can be laid over the original image.
 */
public record SourceRegion(float x, float y, float width, float height) {
}
