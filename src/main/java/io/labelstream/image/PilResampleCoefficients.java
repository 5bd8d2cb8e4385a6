package io.labelstream.image;

/**
 * Filter weights for one axis of an antialiased bilinear resize, computed exactly as Pillow's
 * {@code precompute_coeffs} and {@code normalize_coeffs_8bpc} (Resample.c) do, so that resized pixels match
 * Pillow's (and therefore torchvision's and the ONNX Model Zoo's) to the bit.
 *
 * <p>When shrinking, the triangle filter's support widens by the scale factor: every source pixel under an
 * output pixel contributes, which is what "antialiased" means here.
 */
final class PilResampleCoefficients {

    /** Pillow's fixed-point precision for 8-bit images: 32 − 8 − 2 bits. */
    static final int PRECISION_BITS = 22;

    final int kernelSize;
    /** The first output index described; arrays are indexed by output index minus this. */
    final int offset;
    /** For output index i: first source index. */
    final int[] first;
    /** For output index i: number of source pixels used. */
    final int[] count;
    /** Fixed-point weights, {@code kernelSize} per output index. */
    final int[] weights;
    /**
     * Whether {@link #clip8} can never change a sum of these weights over 8-bit values: every weight is
     * non-negative and every output's weights add up to little enough that 255 × their sum, plus the rounding
     * half, stays below 256 in fixed point. The triangle filter's weights are non-negative and each is rounded
     * by at most a half, so this holds for any resize that uses fewer than about 16,000 source pixels per output.
     */
    final boolean sumsStayInByte;

    private PilResampleCoefficients(int kernelSize, int offset, int[] first, int[] count, int[] weights,
                                    boolean sumsStayInByte) {
        this.kernelSize = kernelSize;
        this.offset = offset;
        this.first = first;
        this.count = count;
        this.weights = weights;
        this.sumsStayInByte = sumsStayInByte;
    }

    /** See {@link #sumsStayInByte}: checked over {@code kernelSize} weights per output. */
    static boolean sumsStayInByte(int kernelSize, int[] weights) {
        long limit = 256L << PRECISION_BITS;
        for (int at = 0; at < weights.length; at += kernelSize) {
            long sum = 0;
            for (int i = at; i < at + kernelSize; i++) {
                if (weights[i] < 0) {
                    return false;
                }
                sum += weights[i];
            }
            if (255 * sum + (1L << (PRECISION_BITS - 1)) >= limit) {
                return false;
            }
        }
        return true;
    }

    static PilResampleCoefficients compute(int inSize, int outSize) {
        return compute(inSize, outSize, 0, outSize);
    }

    /**
     * Weights for output indices {@code from … from + length − 1} only: a 100,000 × 1 image resized to a shorter
     * side of 256 would otherwise need tables for 25 million output columns, of which the crop uses 224.
     */
    static PilResampleCoefficients compute(int inSize, int outSize, int from, int length) {
        double scale = (double) inSize / outSize;
        double filterScale = Math.max(scale, 1.0);
        double support = 1.0 * filterScale; // the bilinear (triangle) filter has support 1
        int kernelSize = (int) Math.ceil(support) * 2 + 1;
        int[] first = new int[length];
        int[] count = new int[length];
        int[] weights = new int[Math.multiplyExact(length, kernelSize)];
        double[] k = new double[kernelSize];
        for (int xx = from; xx < from + length; xx++) {
            int at = xx - from;
            double center = (xx + 0.5) * scale;
            double inverse = 1.0 / filterScale;
            int xmin = Math.max((int) (center - support + 0.5), 0);
            int xmax = Math.min((int) (center + support + 0.5), inSize) - xmin;
            double total = 0.0;
            for (int x = 0; x < xmax; x++) {
                double w = triangle((x + xmin - center + 0.5) * inverse);
                k[x] = w;
                total += w;
            }
            for (int x = 0; x < xmax; x++) {
                double normalized = total != 0.0 ? k[x] / total : k[x];
                weights[at * kernelSize + x] = (int) (normalized < 0
                        ? -0.5 + normalized * (1 << PRECISION_BITS)
                        : 0.5 + normalized * (1 << PRECISION_BITS));
            }
            first[at] = xmin;
            count[at] = xmax;
        }
        return new PilResampleCoefficients(kernelSize, from, first, count, weights,
                sumsStayInByte(kernelSize, weights));
    }

    /**
     * The same weights with every output index using {@code max(count)} source pixels, the short ones padded with
     * zero weights (their first index moved back where the edge requires it). The integer sums are unchanged, and
     * a fixed count lets the resize loops run without a per-pixel length.
     */
    PilResampleCoefficients withEqualCounts(int inSize) {
        int taps = 0;
        for (int n : count) {
            taps = Math.max(taps, n);
        }
        int length = first.length;
        int[] paddedFirst = new int[length];
        int[] paddedCount = new int[length];
        int[] paddedWeights = new int[Math.multiplyExact(length, taps)];
        for (int at = 0; at < length; at++) {
            int start = Math.min(first[at], inSize - taps);
            int shift = first[at] - start;
            System.arraycopy(weights, at * kernelSize, paddedWeights, at * taps + shift, count[at]);
            paddedFirst[at] = start;
            paddedCount[at] = taps;
        }
        // Zero weights change no sum, so the padded set keeps this one's bound.
        return new PilResampleCoefficients(taps, offset, paddedFirst, paddedCount, paddedWeights, sumsStayInByte);
    }

    private static double triangle(double x) {
        double a = Math.abs(x);
        return a < 1.0 ? 1.0 - a : 0.0;
    }

    /** Pillow's rounding shift and clamp to 0–255 of an accumulated fixed-point sum. */
    static int clip8(int accumulated) {
        int v = accumulated >> PRECISION_BITS;
        return v < 0 ? 0 : Math.min(v, 255);
    }
}
