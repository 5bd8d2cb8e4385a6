package io.labelstream.bench;

import java.util.Arrays;
import java.util.List;

/** Repeated measurements of one quantity: median with min–max, as every figure is quoted. */
record Samples(double[] values) {

    static Samples of(List<Double> values) {
        return new Samples(values.stream().mapToDouble(Double::doubleValue).toArray());
    }

    double median() {
        if (values.length == 0) {
            return Double.NaN;
        }
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        int n = sorted.length;
        return n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
    }

    double min() {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }

    double max() {
        return Arrays.stream(values).max().orElse(Double.NaN);
    }

    String format(String unit) {
        return String.format("%.1f %s (%.1f–%.1f)", median(), unit, min(), max());
    }
}
