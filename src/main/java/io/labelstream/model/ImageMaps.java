package io.labelstream.model;

import io.labelstream.image.SourceRegion;

/**
 * One labeled image's feature map, from which any class's activation map can be made: the best {@code explained}
 * labels carry theirs, and a label a moderation rule fires on gets its own when the record is flagged.
 *
 * @param explained how many of the image's best labels carry a map
 * @param offset    where the image's feature map starts in {@code maps}, the batch's
 */
public record ImageMaps(ClassActivationMaps source, float[] maps, int offset, int rows, int cols, SourceRegion box,
                        int explained) {

    /** Class {@code classIndex}'s map for this image. */
    public Activation activation(int classIndex) {
        return source.activation(maps, offset, rows, cols, classIndex, box);
    }
}
