package io.labelstream.model.adapt;

/**
 * The baseline a trained head must beat: each class is the mean of its training features, and an image is the
 * class whose mean is nearest (Euclidean, raw features).
 */
record NearestCentroid(double[][] centroids) {

    static NearestCentroid fit(float[][] x, int[] y, int classes) {
        double[][] sum = new double[classes][x[0].length];
        int[] count = new int[classes];
        for (int i = 0; i < x.length; i++) {
            count[y[i]]++;
            for (int j = 0; j < x[i].length; j++) {
                sum[y[i]][j] += x[i][j];
            }
        }
        for (int c = 0; c < classes; c++) {
            for (int j = 0; j < sum[c].length; j++) {
                sum[c][j] = count[c] == 0 ? Double.NaN : sum[c][j] / count[c];
            }
        }
        return new NearestCentroid(sum);
    }

    int predict(float[] x) {
        int best = -1;
        double bestDistance = Double.POSITIVE_INFINITY;
        for (int c = 0; c < centroids.length; c++) {
            double d = 0;
            for (int j = 0; j < x.length; j++) {
                double v = x[j] - centroids[c][j];
                d += v * v;
            }
            // A class without training images has a NaN centroid and is never nearest.
            if (d < bestDistance) {
                bestDistance = d;
                best = c;
            }
        }
        return best;
    }
}
