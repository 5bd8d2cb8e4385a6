package io.labelstream.model;

import io.labelstream.image.SourceRegion;

/**
 * One labeled image's feature map, from which any class's activation map can be made: the best
 * {@code explain.top()} labels carry theirs, and, with {@code explain.forFlags()}, a label a moderation rule fires
 * on gets its own.
 *
 * @param offset  where the image's feature map starts in {@code maps}, the batch's
 * @param explain which of its labels carry a map
 */
public record ImageMaps(ClassActivationMaps source, float[] maps, int offset, int rows, int cols, SourceRegion box,
                        ExplainSettings explain) {

    /** Class {@code classIndex}'s map for this image. */
    public Activation activation(int classIndex) {
        return source.activation(maps, offset, rows, cols, classIndex, box);
    }
}
