package io.labelstream.image;

import java.awt.image.BufferedImage;

/**
 * Decodes an image and preprocesses it by a {@link PreprocessRecipe} into a caller-provided float array in the
 * model's layout. Only the pixels inside the crop are ever resized: the crop is taken from the resize's output
 * grid, so the result equals resize-then-crop without computing the discarded border.
 *
 * <p>Thread-safe: it keeps no per-call state.
 */
public final class ImagePreprocessor {

    private final PreprocessRecipe recipe;
    private final ImageDecoder decoder;
    private final TensorLayout layout;
    /** For output channel c, the normalized float of each 8-bit value, computed in float like torchvision. */
    private final float[][] normalized = new float[3][256];
    /** For output channel c, which RGB component feeds it (0 = R, 1 = G, 2 = B). */
    private final int[] source = new int[3];

    public ImagePreprocessor(PreprocessRecipe recipe, ImageDecoder decoder, TensorLayout layout) {
        this.recipe = recipe;
        this.decoder = decoder;
        this.layout = layout;
        float[] mean = recipe.mean();
        float[] std = recipe.std();
        for (int c = 0; c < 3; c++) {
            source[c] = recipe.channelOrder() == PreprocessRecipe.ChannelOrder.RGB ? c : 2 - c;
            for (int v = 0; v < 256; v++) {
                float x = recipe.scale() == PreprocessRecipe.PixelScale.UNIT ? v / 255f : v;
                normalized[c][v] = (x - mean[c]) / std[c];
            }
        }
    }

    public ImagePreprocessor(PreprocessRecipe recipe, ImageDecoder decoder) {
        this(recipe, decoder, TensorLayout.NCHW);
    }

    public PreprocessRecipe recipe() {
        return recipe;
    }

    public TensorLayout layout() {
        return layout;
    }

    /** Decodes {@code encoded} and writes {@link PreprocessRecipe#valuesPerImage()} values into {@code out}. */
    public void preprocess(byte[] encoded, float[] out) throws ImageRejectedException {
        preprocess(decoder.decode(encoded), out);
    }

    public void preprocess(BufferedImage image, float[] out) {
        RgbPixels pixels = RgbPixels.of(image);
        int w = pixels.width();
        int h = pixels.height();
        int cropW = recipe.cropWidth();
        int cropH = recipe.cropHeight();
        int resizedW;
        int resizedH;
        if (recipe.resizeMode() == PreprocessRecipe.ResizeMode.EXACT) {
            resizedW = cropW;
            resizedH = cropH;
        } else if (w <= h) {
            // torchvision Resize(int): the shorter side becomes resizeSize, the longer keeps the aspect (truncated).
            resizedW = recipe.resizeSize();
            resizedH = (int) ((double) recipe.resizeSize() * h / w);
        } else {
            resizedH = recipe.resizeSize();
            resizedW = (int) ((double) recipe.resizeSize() * w / h);
        }
        // torchvision CenterCrop uses Python's round(), which rounds halves to even, as Math.rint does.
        int top = (int) Math.rint((resizedH - cropH) / 2.0);
        int left = (int) Math.rint((resizedW - cropW) / 2.0);

        PilResampleCoefficients horizontal = PilResampleCoefficients.compute(w, resizedW);
        PilResampleCoefficients vertical = PilResampleCoefficients.compute(h, resizedH);

        int firstRow = vertical.first[top];
        int lastRow = 0;
        for (int y = top; y < top + cropH; y++) {
            lastRow = Math.max(lastRow, vertical.first[y] + vertical.count[y]);
        }
        int rows = lastRow - firstRow;

        // Pass 1, like Pillow: horizontal resize of the needed source rows, rounded to 8 bits.
        int[] temp = new int[rows * cropW * 3];
        byte[] data = pixels.data();
        int stride = pixels.pixelStride();
        int half = 1 << (PilResampleCoefficients.PRECISION_BITS - 1);
        for (int r = 0; r < rows; r++) {
            int rowBase = (firstRow + r) * pixels.rowStride();
            int o = r * cropW * 3;
            for (int x = 0; x < cropW; x++) {
                int xx = left + x;
                int n = horizontal.count[xx];
                int k = xx * horizontal.kernelSize;
                int sr = half;
                int sg = half;
                int sb = half;
                int p = rowBase + horizontal.first[xx] * stride;
                for (int i = 0; i < n; i++, p += stride) {
                    int weight = horizontal.weights[k + i];
                    sr += (data[p + pixels.red()] & 0xFF) * weight;
                    sg += (data[p + pixels.green()] & 0xFF) * weight;
                    sb += (data[p + pixels.blue()] & 0xFF) * weight;
                }
                temp[o++] = PilResampleCoefficients.clip8(sr);
                temp[o++] = PilResampleCoefficients.clip8(sg);
                temp[o++] = PilResampleCoefficients.clip8(sb);
            }
        }

        // Pass 2: vertical resize, then normalize into the output in the model's layout and channel order.
        int plane = cropW * cropH;
        int rowValues = cropW * 3;
        int[] rgb = new int[3];
        boolean planar = layout == TensorLayout.NCHW;
        for (int y = 0; y < cropH; y++) {
            int yy = top + y;
            int start = vertical.first[yy] - firstRow;
            int n = vertical.count[yy];
            int k = yy * vertical.kernelSize;
            for (int x = 0; x < cropW; x++) {
                int sr = half;
                int sg = half;
                int sb = half;
                int p = start * rowValues + x * 3;
                for (int i = 0; i < n; i++, p += rowValues) {
                    int weight = vertical.weights[k + i];
                    sr += temp[p] * weight;
                    sg += temp[p + 1] * weight;
                    sb += temp[p + 2] * weight;
                }
                rgb[0] = PilResampleCoefficients.clip8(sr);
                rgb[1] = PilResampleCoefficients.clip8(sg);
                rgb[2] = PilResampleCoefficients.clip8(sb);
                int pixel = y * cropW + x;
                for (int c = 0; c < 3; c++) {
                    out[planar ? c * plane + pixel : pixel * 3 + c] = normalized[c][rgb[source[c]]];
                }
            }
        }
    }
}
