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
    /** A SHA-256 of the recipe: computed once, since the engine keys tensors by it on every batch. */
    private final String recipeHash;
    /** For output channel c, the normalized float of each 8-bit value, computed in float like torchvision. */
    private final float[][] normalized = new float[3][256];

    /** The horizontal pass's output, about 1 MB for a 640×480 image: reused per thread, not allocated per image. */
    private final ThreadLocal<int[]> rowScratch = ThreadLocal.withInitial(() -> new int[0]);

    private int[] scratch(int size) {
        int[] current = rowScratch.get();
        if (current.length < size) {
            current = new int[size];
            rowScratch.set(current);
        }
        return current;
    }

    public ImagePreprocessor(PreprocessRecipe recipe, ImageDecoder decoder, TensorLayout layout) {
        this.recipe = recipe;
        this.decoder = decoder;
        this.layout = layout;
        this.recipeHash = recipe.hash(decoder.jpegDecoding());
        float[] mean = recipe.mean();
        float[] std = recipe.std();
        for (int c = 0; c < 3; c++) {
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

    /** The recipe's hash as this preprocessor applies it (with its JPEG decoder): what output records carry. */
    public String recipeHash() {
        return recipeHash;
    }

    public TensorLayout layout() {
        return layout;
    }

    /** Decodes {@code encoded} and writes {@link PreprocessRecipe#valuesPerImage()} values into {@code out}. */
    public void preprocess(byte[] encoded, float[] out) throws ImageRejectedException {
        preprocess(decode(encoded, decodeShorterSide()), out);
    }

    public void preprocess(BufferedImage image, float[] out) {
        preprocess(RgbPixels.of(image), out);
    }

    /**
     * The shorter side this recipe needs from the decoder: the size a reduced decode keeps at least twice of, or 0
     * for a full-resolution decode.
     */
    public int decodeShorterSide() {
        return recipe.reducedDecode() ? recipe.neededShorterSide() : 0;
    }

    /**
     * Decodes {@code encoded} with this preprocessor's decoder and limits, for {@link #preprocess(RgbPixels, float[])}
     * by this recipe or others: {@code shorterSide} as {@link #decodeShorterSide()} gives it (0: full resolution).
     */
    public RgbPixels decode(byte[] encoded, int shorterSide) throws ImageRejectedException {
        return decoder.decodePixels(encoded, shorterSide);
    }

    /** Writes {@link PreprocessRecipe#valuesPerImage()} values of decoded {@code pixels} into {@code out}. */
    public void preprocess(RgbPixels pixels, float[] out) {
        int w = pixels.width();
        int h = pixels.height();
        int cropW = recipe.cropWidth();
        int cropH = recipe.cropHeight();
        PreprocessRecipe.Geometry geometry = recipe.geometry(w, h);
        int resizedW = geometry.resizedWidth();
        int resizedH = geometry.resizedHeight();
        int top = geometry.top();
        int left = geometry.left();

        // Weights only for the output columns and rows inside the crop (indexed from 0 = left / top).
        PilResampleCoefficients horizontal = PilResampleCoefficients.compute(w, resizedW, left, cropW);
        PilResampleCoefficients vertical = PilResampleCoefficients.compute(h, resizedH, top, cropH);

        int firstRow = vertical.first[0];
        int lastRow = 0;
        for (int y = 0; y < cropH; y++) {
            lastRow = Math.max(lastRow, vertical.first[y] + vertical.count[y]);
        }
        int rows = lastRow - firstRow;

        // Pass 1, like Pillow: horizontal resize of the needed source rows, rounded to 8 bits, kept as R, G, B.
        int[] temp = scratch(rows * cropW * 3);
        byte[] data = pixels.data();
        int stride = pixels.pixelStride();
        int rowStride = pixels.rowStride();
        int red = pixels.red();
        int green = pixels.green();
        int blue = pixels.blue();
        int[] hFirst = horizontal.first;
        int[] hCount = horizontal.count;
        int[] hWeights = horizontal.weights;
        int hKernel = horizontal.kernelSize;
        int half = 1 << (PilResampleCoefficients.PRECISION_BITS - 1);
        int o = 0;
        for (int r = 0; r < rows; r++) {
            int rowBase = (firstRow + r) * rowStride;
            for (int xx = 0; xx < cropW; xx++) {
                int n = hCount[xx];
                int k = xx * hKernel;
                int sr = half;
                int sg = half;
                int sb = half;
                int q = rowBase + hFirst[xx] * stride;
                for (int i = 0; i < n; i++, q += stride) {
                    int weight = hWeights[k + i];
                    sr += (data[q + red] & 0xFF) * weight;
                    sg += (data[q + green] & 0xFF) * weight;
                    sb += (data[q + blue] & 0xFF) * weight;
                }
                temp[o] = PilResampleCoefficients.clip8(sr);
                temp[o + 1] = PilResampleCoefficients.clip8(sg);
                temp[o + 2] = PilResampleCoefficients.clip8(sb);
                o += 3;
            }
        }

        // Pass 2: vertical resize, then normalize into the output in the model's layout and channel order.
        int plane = cropW * cropH;
        int rowValues = cropW * 3;
        boolean bgr = recipe.channelOrder() == PreprocessRecipe.ChannelOrder.BGR;
        // Lookup tables per source component (R, G, B), already placed at their output channel's statistics.
        float[] lutR = normalized[bgr ? 2 : 0];
        float[] lutG = normalized[1];
        float[] lutB = normalized[bgr ? 0 : 2];
        int offR = bgr ? 2 : 0;
        int offB = bgr ? 0 : 2;
        boolean planar = layout == TensorLayout.NCHW;
        int[] vFirst = vertical.first;
        int[] vCount = vertical.count;
        int[] vWeights = vertical.weights;
        int vKernel = vertical.kernelSize;
        // Row-at-a-time: each tap adds a whole source row, a loop the JIT turns into SIMD.
        int[] acc = new int[rowValues];
        for (int y = 0; y < cropH; y++) {
            int yy = y;
            int base = (vFirst[yy] - firstRow) * rowValues;
            int n = vCount[yy];
            int k = yy * vKernel;
            java.util.Arrays.fill(acc, half);
            for (int i = 0; i < n; i++, base += rowValues) {
                int weight = vWeights[k + i];
                for (int j = 0; j < rowValues; j++) {
                    acc[j] += temp[base + j] * weight;
                }
            }
            int rowStart = y * cropW;
            for (int x = 0, j = 0; x < cropW; x++, j += 3) {
                float vr = lutR[PilResampleCoefficients.clip8(acc[j])];
                float vg = lutG[PilResampleCoefficients.clip8(acc[j + 1])];
                float vb = lutB[PilResampleCoefficients.clip8(acc[j + 2])];
                int pixel = rowStart + x;
                if (planar) {
                    out[offR * plane + pixel] = vr;
                    out[plane + pixel] = vg;
                    out[offB * plane + pixel] = vb;
                } else {
                    out[pixel * 3 + offR] = vr;
                    out[pixel * 3 + 1] = vg;
                    out[pixel * 3 + offB] = vb;
                }
            }
        }
    }
}
