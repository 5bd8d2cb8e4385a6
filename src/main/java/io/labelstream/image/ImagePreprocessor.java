package io.labelstream.image;

import java.awt.image.BufferedImage;
import java.nio.FloatBuffer;

/**
 * Decodes an image and writes it, preprocessed by a {@link PreprocessRecipe}, straight into its slot of a
 * batch's NCHW float buffer. Only the pixels inside the center crop are ever resized: the crop is taken from the
 * resize's output grid, so the result equals resize-then-crop without computing the discarded border.
 *
 * <p>Thread-safe: it keeps no per-call state.
 */
public final class ImagePreprocessor {

    private final PreprocessRecipe recipe;
    private final ImageDecoder decoder;
    /** Per channel, the normalized float of each 8-bit value: (v / 255 − mean) / std, in float like torchvision. */
    private final float[][] normalized = new float[3][256];

    public ImagePreprocessor(PreprocessRecipe recipe, ImageDecoder decoder) {
        this.recipe = recipe;
        this.decoder = decoder;
        float[] mean = recipe.mean();
        float[] std = recipe.std();
        for (int c = 0; c < 3; c++) {
            for (int v = 0; v < 256; v++) {
                normalized[c][v] = (v / 255f - mean[c]) / std[c];
            }
        }
    }

    public PreprocessRecipe recipe() {
        return recipe;
    }

    /** Decodes {@code encoded} and writes image number {@code slot} of {@code batch}. */
    public void preprocess(byte[] encoded, FloatBuffer batch, int slot) throws ImageRejectedException {
        preprocess(decoder.decode(encoded), batch, slot);
    }

    public void preprocess(BufferedImage image, FloatBuffer batch, int slot) {
        RgbPixels pixels = RgbPixels.of(image);
        int w = pixels.width();
        int h = pixels.height();
        // torchvision Resize(int): the shorter side becomes resizeShorter, the longer keeps the aspect (truncated).
        int resizedW;
        int resizedH;
        if (w <= h) {
            resizedW = recipe.resizeShorter();
            resizedH = (int) ((double) recipe.resizeShorter() * h / w);
        } else {
            resizedH = recipe.resizeShorter();
            resizedW = (int) ((double) recipe.resizeShorter() * w / h);
        }
        int cropW = recipe.cropWidth();
        int cropH = recipe.cropHeight();
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
            int out = r * cropW * 3;
            for (int x = 0; x < cropW; x++) {
                int xx = left + x;
                int start = horizontal.first[xx];
                int n = horizontal.count[xx];
                int k = xx * horizontal.kernelSize;
                int sr = half;
                int sg = half;
                int sb = half;
                int p = rowBase + start * stride;
                for (int i = 0; i < n; i++, p += stride) {
                    int weight = horizontal.weights[k + i];
                    sr += (data[p + pixels.red()] & 0xFF) * weight;
                    sg += (data[p + pixels.green()] & 0xFF) * weight;
                    sb += (data[p + pixels.blue()] & 0xFF) * weight;
                }
                temp[out++] = PilResampleCoefficients.clip8(sr);
                temp[out++] = PilResampleCoefficients.clip8(sg);
                temp[out++] = PilResampleCoefficients.clip8(sb);
            }
        }

        // Pass 2: vertical resize, then normalize into the three channel planes of this image's slot.
        int plane = cropW * cropH;
        float[] planes = new float[3 * plane];
        int rowValues = cropW * 3;
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
                int o = y * cropW + x;
                planes[o] = normalized[0][PilResampleCoefficients.clip8(sr)];
                planes[plane + o] = normalized[1][PilResampleCoefficients.clip8(sg)];
                planes[2 * plane + o] = normalized[2][PilResampleCoefficients.clip8(sb)];
            }
        }
        batch.put(slot * recipe.valuesPerImage(), planes);
    }
}
