package io.labelstream.image;

import java.awt.image.BufferedImage;
import java.util.Arrays;

import static io.labelstream.image.PilResampleCoefficients.clip8;

/**
 * Decodes an image and preprocesses it by a {@link PreprocessRecipe} into a caller-provided float array in the
 * model's layout. Only the pixels inside the crop are ever resized: the crop is taken from the resize's output
 * grid, so the result equals resize-then-crop without computing the discarded border.
 *
 * <p>Thread-safe: its resize buffers and weights are per thread.
 */
public final class ImagePreprocessor {

    /** Pillow's rounding term: half of the fixed-point one. */
    private static final int HALF = 1 << (PilResampleCoefficients.PRECISION_BITS - 1);
    /**
     * An int sum shifted right by the precision lies in −512…511; the lookup tables cover that whole range, so
     * the clamp to 0–255 is part of the table instead of two comparisons per value.
     */
    private static final int TABLE_OFFSET = 1 << (31 - PilResampleCoefficients.PRECISION_BITS);

    private final PreprocessRecipe recipe;
    private final ImageDecoder decoder;
    private final TensorLayout layout;
    /** A SHA-256 of the recipe: computed once, since the engine keys tensors by it on every batch. */
    private final String recipeHash;

    /**
     * For output channel c, the normalized float of each vertical sum's 8-bit value, computed in float like
     * torchvision, at index {@code (sum >> PRECISION_BITS) + TABLE_OFFSET}.
     */
    private final float[][] normalized = new float[3][2 * TABLE_OFFSET];

    /** The horizontal pass's rows and the vertical pass's sums: reused per thread, not allocated per image. */
    private final ThreadLocal<ResizeScratch> scratch = ThreadLocal.withInitial(ResizeScratch::new);

    public ImagePreprocessor(PreprocessRecipe recipe, ImageDecoder decoder, TensorLayout layout) {
        this.recipe = recipe;
        this.decoder = decoder;
        this.layout = layout;
        this.recipeHash = recipe.hash(decoder.jpegDecoding());
        float[] mean = recipe.mean();
        float[] std = recipe.std();
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < normalized[c].length; i++) {
                int v = Math.max(0, Math.min(i - TABLE_OFFSET, 255));
                float x = recipe.scale() == PreprocessRecipe.PixelScale.UNIT ? v / 255f : v;
                normalized[c][i] = (x - mean[c]) / std[c];
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

    /**
     * Writes {@link PreprocessRecipe#valuesPerImage()} values of decoded {@code pixels} into {@code out}. Pillow's
     * two passes: a horizontal resize of the needed source rows, rounded to 8 bits, then a vertical one whose sums
     * go through the normalization table into the model's layout and channel order.
     */
    public void preprocess(RgbPixels pixels, float[] out) {
        int cropW = recipe.cropWidth();
        int cropH = recipe.cropHeight();
        ResizeScratch buffers = scratch.get();
        ResizeWeights weights = buffers.weights;
        if (weights == null || weights.width() != pixels.width() || weights.height() != pixels.height()) {
            weights = weightsFor(pixels.width(), pixels.height());
            buffers.weights = weights;
        }
        PilResampleCoefficients horizontal = weights.horizontal();
        PilResampleCoefficients vertical = weights.vertical();

        int firstRow = vertical.first[0];
        int rows = vertical.first[cropH - 1] + vertical.kernelSize - firstRow;
        // One row per source row and channel: row 3r + c holds channel c (R, G, B) of source row firstRow + r.
        int[][] resized = buffers.rows(3 * rows, cropW);
        for (int r = 0; r < rows; r++) {
            resizeRow(pixels, firstRow + r, horizontal, cropW, resized[3 * r], resized[3 * r + 1], resized[3 * r + 2]);
        }

        int[] sums = buffers.sums(cropW);
        boolean bgr = recipe.channelOrder() == PreprocessRecipe.ChannelOrder.BGR;
        int plane = cropW * cropH;
        for (int y = 0; y < cropH; y++) {
            for (int c = 0; c < 3; c++) {
                sumRows(resized, 3 * (vertical.first[y] - firstRow) + c, vertical, y, sums, cropW);
                int outChannel = bgr ? 2 - c : c;
                float[] table = normalized[outChannel];
                if (layout == TensorLayout.NCHW) {
                    int o = outChannel * plane + y * cropW;
                    for (int x = 0; x < cropW; x++) {
                        out[o + x] = table[(sums[x] >> PilResampleCoefficients.PRECISION_BITS) + TABLE_OFFSET];
                    }
                } else {
                    int o = y * cropW * 3 + outChannel;
                    for (int x = 0; x < cropW; x++) {
                        out[o + 3 * x] = table[(sums[x] >> PilResampleCoefficients.PRECISION_BITS) + TABLE_OFFSET];
                    }
                }
            }
        }
    }

    /** Both passes' weights for a source of {@code width × height}: only the outputs inside the crop. */
    private ResizeWeights weightsFor(int width, int height) {
        PreprocessRecipe.Geometry geometry = recipe.geometry(width, height);
        return new ResizeWeights(width, height,
                PilResampleCoefficients.compute(width, geometry.resizedWidth(), geometry.left(), recipe.cropWidth())
                        .withEqualCounts(width),
                PilResampleCoefficients.compute(height, geometry.resizedHeight(), geometry.top(), recipe.cropHeight())
                        .withEqualCounts(height));
    }

    /**
     * The horizontal pass over one source row, into one 8-bit row per channel; {@code r}, {@code g} and {@code b}
     * are where the row's first red, green and blue samples are in the decoded bytes.
     */
    private static void resizeRow(RgbPixels pixels, int row, PilResampleCoefficients coefficients, int width,
                                  int[] red, int[] green, int[] blue) {
        byte[] data = pixels.data();
        int stride = pixels.pixelStride();
        int rowBase = row * pixels.rowStride();
        int r = rowBase + pixels.red();
        int g = rowBase + pixels.green();
        int b = rowBase + pixels.blue();
        int[] first = coefficients.first;
        int[] weights = coefficients.weights;
        int n = coefficients.kernelSize;
        if (n == 2 && coefficients.sumsStayInByte) {
            // Upscales (such as a 224² image to 256) and same-size resizes need at most two taps: the hot case,
            // unrolled, and without Pillow's clamp, which these weights never trigger and which took about 15 % of
            // the resize's time.
            int shift = PilResampleCoefficients.PRECISION_BITS;
            for (int x = 0; x < width; x++) {
                int q = first[x] * stride;
                int w0 = weights[2 * x];
                int w1 = weights[2 * x + 1];
                red[x] = (HALF + (data[r + q] & 0xFF) * w0 + (data[r + q + stride] & 0xFF) * w1) >> shift;
                green[x] = (HALF + (data[g + q] & 0xFF) * w0 + (data[g + q + stride] & 0xFF) * w1) >> shift;
                blue[x] = (HALF + (data[b + q] & 0xFF) * w0 + (data[b + q + stride] & 0xFF) * w1) >> shift;
            }
            return;
        }
        for (int x = 0; x < width; x++) {
            int q = first[x] * stride;
            int k = x * n;
            int sr = HALF;
            int sg = HALF;
            int sb = HALF;
            for (int i = 0; i < n; i++, q += stride) {
                int weight = weights[k + i];
                sr += (data[r + q] & 0xFF) * weight;
                sg += (data[g + q] & 0xFF) * weight;
                sb += (data[b + q] & 0xFF) * weight;
            }
            red[x] = clip8(sr);
            green[x] = clip8(sg);
            blue[x] = clip8(sb);
        }
    }

    /**
     * The vertical pass's fixed-point sums for output row {@code y} of one channel, whose first source row is
     * {@code rows[row]} (the channel's next source rows follow every third row). Whole rows at a time, with the
     * same index in every array: loops the JIT turns into SIMD.
     */
    private static void sumRows(int[][] rows, int row, PilResampleCoefficients coefficients, int y, int[] sums,
                                int width) {
        int taps = coefficients.kernelSize;
        int[] weights = coefficients.weights;
        int k = y * taps;
        if (taps == 2) {
            int[] a = rows[row];
            int[] b = rows[row + 3];
            int w0 = weights[k];
            int w1 = weights[k + 1];
            for (int x = 0; x < width; x++) {
                sums[x] = HALF + a[x] * w0 + b[x] * w1;
            }
            return;
        }
        Arrays.fill(sums, 0, width, HALF);
        for (int i = 0; i < taps; i++) {
            int[] a = rows[row + 3 * i];
            int weight = weights[k + i];
            for (int x = 0; x < width; x++) {
                sums[x] += a[x] * weight;
            }
        }
    }

    /** The weights of the horizontal and the vertical pass for one source size, indexed from the crop's corner. */
    private record ResizeWeights(int width, int height, PilResampleCoefficients horizontal,
                                 PilResampleCoefficients vertical) {
    }

    /**
     * Per-thread buffers that grow to the largest image seen and are kept, and the weights for the last source
     * size: they take about 15 µs to compute, and a stream of same-sized images needs them once per thread.
     */
    private static final class ResizeScratch {
        private ResizeWeights weights;
        private int[][] rows = new int[0][0];
        private int rowLength;
        private int[] sums = new int[0];

        int[][] rows(int count, int length) {
            if (rows.length < count || rowLength < length) {
                rowLength = Math.max(length, rowLength);
                rows = new int[Math.max(count, rows.length)][rowLength];
            }
            return rows;
        }

        int[] sums(int length) {
            if (sums.length < length) {
                sums = new int[length];
            }
            return sums;
        }
    }
}
