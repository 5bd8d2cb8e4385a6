package io.labelstream.model;

/**
 * What the model expects, read from the model file itself.
 *
 * @param name       the input's name
 * @param channels   colour channels (3)
 * @param height     image height in pixels
 * @param width      image width in pixels
 * @param fixedBatch the batch dimension when the model fixes it (e.g. 1), or 0 when it is dynamic
 */
public record ModelInput(String name, int channels, int height, int width, int fixedBatch) {

    public int valuesPerImage() {
        return channels * height * width;
    }

    public boolean dynamicBatch() {
        return fixedBatch == 0;
    }
}
