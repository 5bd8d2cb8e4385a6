package io.labelstream.model;

import io.labelstream.image.TensorLayout;

/**
 * What the model expects, read from the model file itself.
 *
 * @param name        the input's name
 * @param layout      NCHW or NHWC
 * @param elementType float32 or float16
 * @param height      image height in pixels
 * @param width       image width in pixels
 * @param fixedBatch  the batch dimension when the model fixes it (e.g. 1), or 0 when it is dynamic
 */
public record ModelInput(String name, TensorLayout layout, ElementType elementType, int height, int width,
                         int fixedBatch) {

    public enum ElementType { FLOAT32, FLOAT16 }

    public int channels() {
        return 3;
    }

    public int valuesPerImage() {
        return 3 * height * width;
    }

    public boolean dynamicBatch() {
        return fixedBatch == 0;
    }

    public long[] shape(int batch) {
        return layout == TensorLayout.NCHW ? new long[] {batch, 3, height, width} : new long[] {batch, height, width, 3};
    }

    /** Images in one run of a tool over a list: up to {@code preferred} with a dynamic batch, else the fixed one. */
    public int runSize(int preferred, int remaining) {
        return dynamicBatch() ? Math.min(preferred, remaining) : fixedBatch;
    }

    /**
     * {@code n} preprocessed images from {@code start} as one run's input values; past the list's end the last image
     * is repeated, which fills a fixed batch larger than what is left.
     */
    public java.nio.FloatBuffer runValues(java.util.List<float[]> images, int start, int n) {
        java.nio.FloatBuffer data = java.nio.FloatBuffer.allocate(n * valuesPerImage());
        for (int i = 0; i < n; i++) {
            data.put(images.get(Math.min(start + i, images.size() - 1)));
        }
        return data.flip();
    }

    @Override
    public String toString() {
        return name + " " + elementType.name().toLowerCase(java.util.Locale.ROOT) + " " + layout + " "
                + (dynamicBatch() ? "N" : Integer.toString(fixedBatch)) + "×" + height + "×" + width;
    }
}
