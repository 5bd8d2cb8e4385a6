package io.labelstream.model.adapt;

/**
 * Per-feature mean and standard deviation of the training features. Features of a pooled backbone differ in scale
 * by orders of magnitude; on standardized features one L2 strength and one step size fit every model.
 */
record Standardizer(double[] mean, double[] std) {

    /**
     * A feature that is (nearly) constant on the training set keeps a unit scale instead of blowing up: below an
     * absolute floor, or so small beside its mean that the folded float32 Gemm would cancel away its digits.
     */
    private static final double MIN_STD = 1e-6;
    private static final double MIN_STD_OF_MEAN = 1e-4;

    static Standardizer of(float[][] x) {
        int d = x[0].length;
        double[] mean = new double[d];
        double[] std = new double[d];
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                mean[j] += row[j];
            }
        }
        for (int j = 0; j < d; j++) {
            mean[j] /= x.length;
        }
        for (float[] row : x) {
            for (int j = 0; j < d; j++) {
                double v = row[j] - mean[j];
                std[j] += v * v;
            }
        }
        for (int j = 0; j < d; j++) {
            std[j] = Math.sqrt(std[j] / x.length);
            if (std[j] < MIN_STD || std[j] < MIN_STD_OF_MEAN * Math.abs(mean[j])) {
                std[j] = 1;
            }
        }
        return new Standardizer(mean, std);
    }

    double[][] apply(float[][] x) {
        double[][] z = new double[x.length][];
        for (int i = 0; i < x.length; i++) {
            z[i] = new double[x[i].length];
            for (int j = 0; j < x[i].length; j++) {
                z[i][j] = (x[i][j] - mean[j]) / std[j];
            }
        }
        return z;
    }
}
