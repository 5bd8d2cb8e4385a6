package io.labelstream.model.quantize;

/**
 * The values one activation tensor took over the calibration images: its extremes and a histogram of |x| over
 * [0, max |x|] that widens (re-binning what it holds) when a larger value arrives, so it needs one pass.
 */
final class TensorRange {

    static final int BINS = 2048;

    private double min = Double.POSITIVE_INFINITY;
    private double max = Double.NEGATIVE_INFINITY;
    private final boolean histogram;
    private double[] counts;
    private double absMax;

    TensorRange(boolean histogram) {
        this.histogram = histogram;
    }

    void add(float[] values) {
        float lo = Float.POSITIVE_INFINITY;
        float hi = Float.NEGATIVE_INFINITY;
        for (float v : values) {
            lo = Math.min(lo, v);
            hi = Math.max(hi, v);
        }
        if (Float.isNaN(lo) || Float.isNaN(hi) || Float.isInfinite(lo) || Float.isInfinite(hi)) {
            throw new IllegalStateException("not finite");
        }
        min = Math.min(min, lo);
        max = Math.max(max, hi);
        if (!histogram) {
            return;
        }
        double newAbsMax = Math.max(absMax, Math.max(Math.abs(lo), Math.abs(hi)));
        if (counts == null) {
            counts = new double[BINS];
            absMax = newAbsMax;
        } else if (newAbsMax > absMax) {
            rebin(newAbsMax);
        }
        if (absMax == 0) {
            counts[0] += values.length;
            return;
        }
        double perBin = BINS / absMax;
        for (float v : values) {
            counts[Math.min(BINS - 1, (int) (Math.abs(v) * perBin))]++;
        }
    }

    /** Moves each old bin's count to the new bin holding its centre. */
    private void rebin(double newAbsMax) {
        double[] wider = new double[BINS];
        double oldWidth = absMax / BINS;
        for (int i = 0; i < BINS; i++) {
            if (counts[i] != 0) {
                double centre = (i + 0.5) * oldWidth;
                wider[Math.min(BINS - 1, (int) (centre / newAbsMax * BINS))] += counts[i];
            }
        }
        counts = wider;
        absMax = newAbsMax;
    }

    /** The range to encode: the observed one, cut symmetrically at a threshold of |x| for the histogram methods. */
    double[] range(CalibrationMethod method, double percentile) {
        double threshold = switch (method) {
            case MINMAX -> Double.POSITIVE_INFINITY;
            case PERCENTILE -> percentileThreshold(percentile);
            case ENTROPY -> entropyThreshold(min >= 0 ? 256 : 128);
        };
        return new double[] {Math.max(min, -threshold), Math.min(max, threshold)};
    }

    private double percentileThreshold(double percentile) {
        double total = 0;
        for (double c : counts) {
            total += c;
        }
        double target = total * percentile / 100.0;
        double cumulative = 0;
        for (int i = 0; i < BINS; i++) {
            cumulative += counts[i];
            if (cumulative >= target) {
                return (i + 1) * absMax / BINS;
            }
        }
        return absMax;
    }

    /**
     * For each candidate threshold (bins [0, i)), the reference distribution P is the histogram up to it with the
     * outliers added to its last bin; Q is P squeezed into {@code levels} bins and spread back over the non-empty
     * bins. The threshold with the least KL(P‖Q) wins.
     */
    private double entropyThreshold(int levels) {
        if (absMax == 0) {
            return 0;
        }
        double bestKl = Double.POSITIVE_INFINITY;
        int best = BINS;
        double[] p = new double[BINS];
        double[] q = new double[BINS];
        for (int i = levels; i <= BINS; i++) {
            System.arraycopy(counts, 0, p, 0, i);
            double outliers = 0;
            for (int j = i; j < BINS; j++) {
                outliers += counts[j];
            }
            p[i - 1] += outliers;
            java.util.Arrays.fill(q, 0, i, 0);
            double merge = (double) i / levels;
            for (int level = 0; level < levels; level++) {
                int start = (int) Math.floor(level * merge);
                int end = level == levels - 1 ? i : (int) Math.floor((level + 1) * merge);
                double sum = 0;
                int nonEmpty = 0;
                for (int j = start; j < end; j++) {
                    sum += counts[j];
                    nonEmpty += counts[j] != 0 ? 1 : 0;
                }
                for (int j = start; j < end; j++) {
                    q[j] = counts[j] != 0 ? sum / nonEmpty : 0;
                }
            }
            double kl = divergence(p, q, i);
            if (kl < bestKl) {
                bestKl = kl;
                best = i;
            }
        }
        return best * absMax / BINS;
    }

    private static double divergence(double[] p, double[] q, int n) {
        double pSum = 0;
        double qSum = 0;
        for (int j = 0; j < n; j++) {
            pSum += p[j];
            qSum += q[j];
        }
        if (pSum == 0 || qSum == 0) {
            return Double.POSITIVE_INFINITY;
        }
        double kl = 0;
        for (int j = 0; j < n; j++) {
            if (p[j] == 0) {
                continue;
            }
            double pj = p[j] / pSum;
            double qj = q[j] / qSum;
            kl += qj == 0 ? pj * Math.log(pj / 1e-12) : pj * Math.log(pj / qj);
        }
        return kl;
    }
}
