package io.labelstream.model;

import java.util.Arrays;

/** Turns one image's raw model output into probabilities and picks the best classes. */
public final class Scores {

    /** How to treat the model's output. */
    public enum OutputKind {
        /** Softmax unless a row already looks like a probability distribution. */
        AUTO,
        LOGITS,
        PROBABILITIES;

        public static OutputKind parse(String text) {
            return valueOf(text.trim().toUpperCase(java.util.Locale.ROOT));
        }
    }

    private static final double PROBABILITY_SUM_TOLERANCE = 1e-3;

    private Scores() {
    }

    /**
     * Returns probabilities for {@code classes} values starting at {@code offset}, without modifying the input.
     * Softmax subtracts the row maximum first, so large logits cannot overflow.
     */
    public static float[] probabilities(float[] raw, int offset, int classes, OutputKind kind) {
        float[] out = Arrays.copyOfRange(raw, offset, offset + classes);
        if (kind == OutputKind.PROBABILITIES || (kind == OutputKind.AUTO && isDistribution(out))) {
            return out;
        }
        float max = Float.NEGATIVE_INFINITY;
        for (float v : out) {
            max = Math.max(max, v);
        }
        double sum = 0;
        for (int i = 0; i < out.length; i++) {
            double e = Math.exp(out[i] - max);
            out[i] = (float) e;
            sum += e;
        }
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) (out[i] / sum);
        }
        return out;
    }

    static boolean isDistribution(float[] row) {
        double sum = 0;
        for (float v : row) {
            if (!(v >= 0f && v <= 1f)) {
                return false;
            }
            sum += v;
        }
        return Math.abs(sum - 1.0) <= PROBABILITY_SUM_TOLERANCE;
    }

    /**
     * Indices of the {@code k} largest values, best first; ties go to the lower index so results are stable.
     * A partial selection: O(n·k), which beats sorting 1000 classes for the usual k ≤ 10.
     */
    public static int[] topK(float[] values, int k) {
        int n = Math.min(k, values.length);
        int[] best = new int[n];
        int filled = 0;
        for (int i = 0; i < values.length; i++) {
            float v = values[i];
            if (filled == n && !(v > values[best[n - 1]])) {
                continue;
            }
            int pos = filled == n ? n - 1 : filled++;
            while (pos > 0 && v > values[best[pos - 1]]) {
                best[pos] = best[pos - 1];
                pos--;
            }
            best[pos] = i;
        }
        return best;
    }
}
