package io.labelstream.bench;

import java.util.Arrays;

/** Percentiles of a sample by the nearest-rank method: p99 of 400 latencies is the 396th smallest. */
record Percentiles(double[] sorted) {

    static Percentiles of(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return new Percentiles(sorted);
    }

    double at(double percent) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }
}
