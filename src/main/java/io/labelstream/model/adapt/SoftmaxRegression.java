package io.labelstream.model.adapt;

/**
 * Multinomial logistic regression on standardized features: class-balanced cross-entropy (each class weighs as
 * much as any other, however many images it has) plus L2 on the weights, minimised by Nesterov's accelerated
 * gradient over the whole training set with a step from the loss's curvature bound, so that nothing needs tuning
 * and a run is exactly repeatable. With a holdout it stops when the holdout's loss has not improved for
 * {@code patience} iterations and reports the best iteration.
 */
final class SoftmaxRegression {

    /**
     * @param l2            L2 strength on the mean loss
     * @param maxIterations iterations at most (exactly this many without a holdout)
     * @param patience      iterations without a better holdout loss before stopping
     */
    record Options(double l2, int maxIterations, int patience) {

        Options {
            if (!(l2 >= 0) || Double.isInfinite(l2)) {
                throw new IllegalArgumentException("--l2 must be a finite number ≥ 0, got " + l2);
            }
            if (maxIterations < 1) {
                throw new IllegalArgumentException("--max-iterations must be at least 1, got " + maxIterations);
            }
        }

        static Options defaults() {
            return new Options(1e-2, 2000, 100);
        }

        Options withMaxIterations(int iterations) {
            return new Options(l2, iterations, patience);
        }
    }

    /**
     * @param head        the head, on raw features
     * @param iterations  the iteration it is from (the best on the holdout, or the last)
     * @param holdoutLoss the holdout's class-balanced loss there, NaN without a holdout
     * @param ran         iterations run: the best one plus the patience when the holdout stopped it
     */
    record Fit(Head head, int iterations, double holdoutLoss, int ran) {
    }

    private SoftmaxRegression() {
    }

    /**
     * @param holdout  features to stop on, or null to run {@code options.maxIterations()}
     * @param holdoutY their classes
     */
    static Fit fit(float[][] x, int[] y, int classes, Options options, float[][] holdout, int[] holdoutY) {
        if (x.length == 0) {
            throw new IllegalArgumentException("no training features");
        }
        Standardizer standardizer = Standardizer.of(x);
        double[][] z = standardizer.apply(x);
        double[][] zHold = holdout == null ? null : standardizer.apply(holdout);
        double[] sampleWeight = balancedWeights(y, classes);
        double[] holdWeight = holdout == null ? null : balancedWeights(holdoutY, classes);
        int d = z[0].length;
        double step = 1 / (0.5 * curvature(z, sampleWeight) + options.l2());

        double[][] w = new double[classes][d];
        double[] b = new double[classes];
        double[][] wPrev = new double[classes][d];
        double[] bPrev = new double[classes];
        double[][] wLook = new double[classes][d];
        double[] bLook = new double[classes];
        double[][] gw = new double[classes][d];
        double[] gb = new double[classes];

        double[][] bestW = copy(w);
        double[] bestB = b.clone();
        int bestIteration = 0;
        double bestLoss = holdout == null ? Double.NaN : loss(zHold, holdoutY, holdWeight, w, b);
        int ran = 0;
        for (int it = 1; it <= options.maxIterations(); it++) {
            ran = it;
            double momentum = (it - 1.0) / (it + 2.0);
            for (int c = 0; c < classes; c++) {
                for (int j = 0; j < d; j++) {
                    wLook[c][j] = w[c][j] + momentum * (w[c][j] - wPrev[c][j]);
                }
                bLook[c] = b[c] + momentum * (b[c] - bPrev[c]);
            }
            gradient(z, y, sampleWeight, wLook, bLook, options.l2(), gw, gb);
            for (int c = 0; c < classes; c++) {
                System.arraycopy(w[c], 0, wPrev[c], 0, d);
                for (int j = 0; j < d; j++) {
                    w[c][j] = wLook[c][j] - step * gw[c][j];
                }
            }
            System.arraycopy(b, 0, bPrev, 0, classes);
            for (int c = 0; c < classes; c++) {
                b[c] = bLook[c] - step * gb[c];
            }
            if (holdout == null) {
                bestIteration = it;
                continue;
            }
            double l = loss(zHold, holdoutY, holdWeight, w, b);
            if (l < bestLoss - 1e-9) {
                bestLoss = l;
                bestIteration = it;
                bestW = copy(w);
                bestB = b.clone();
            } else if (it - bestIteration >= options.patience()) {
                break;
            }
        }
        if (holdout == null) {
            bestW = w;
            bestB = b;
        }
        return new Fit(Head.unstandardized(bestW, bestB, standardizer), bestIteration, bestLoss, ran);
    }

    /** Weights that give every class present the same total: n / (classes present × n_c). */
    static double[] balancedWeights(int[] y, int classes) {
        int[] count = new int[classes];
        for (int label : y) {
            count[label]++;
        }
        int present = 0;
        for (int c : count) {
            present += c > 0 ? 1 : 0;
        }
        double[] weights = new double[y.length];
        for (int i = 0; i < y.length; i++) {
            weights[i] = (double) y.length / (present * count[y[i]]);
        }
        return weights;
    }

    /**
     * The largest eigenvalue of the weighted second moment of [z, 1], by power iteration: the softmax loss's
     * Hessian is at most half of it (Böhning's bound), so 1 / (that + l2) is a step that cannot overshoot.
     */
    private static double curvature(double[][] z, double[] weight) {
        int d = z[0].length + 1;
        double total = 0;
        for (double w : weight) {
            total += w;
        }
        double[] v = new double[d];
        java.util.Arrays.fill(v, 1 / Math.sqrt(d));
        double lambda = 0;
        for (int round = 0; round < 100; round++) {
            double[] next = new double[d];
            for (int i = 0; i < z.length; i++) {
                double u = v[d - 1];
                for (int j = 0; j < d - 1; j++) {
                    u += z[i][j] * v[j];
                }
                u *= weight[i] / total;
                for (int j = 0; j < d - 1; j++) {
                    next[j] += u * z[i][j];
                }
                next[d - 1] += u;
            }
            double norm = 0;
            for (double n : next) {
                norm += n * n;
            }
            norm = Math.sqrt(norm);
            if (norm == 0) {
                return 1;
            }
            for (int j = 0; j < d; j++) {
                v[j] = next[j] / norm;
            }
            if (Math.abs(norm - lambda) <= 1e-9 * norm) {
                lambda = norm;
                break;
            }
            lambda = norm;
        }
        // Power iteration approaches the top eigenvalue from below: a margin keeps the step on the safe side.
        return lambda * 1.05;
    }

    static void gradient(double[][] z, int[] y, double[] weight, double[][] w, double[] b, double l2,
                                 double[][] gw, double[] gb) {
        int classes = b.length;
        int d = z[0].length;
        double total = 0;
        for (double s : weight) {
            total += s;
        }
        for (int c = 0; c < classes; c++) {
            for (int j = 0; j < d; j++) {
                gw[c][j] = l2 * w[c][j];
            }
            gb[c] = 0;
        }
        double[] p = new double[classes];
        for (int i = 0; i < z.length; i++) {
            probabilities(z[i], w, b, p);
            double s = weight[i] / total;
            for (int c = 0; c < classes; c++) {
                double r = s * (p[c] - (y[i] == c ? 1 : 0));
                gb[c] += r;
                double[] row = gw[c];
                for (int j = 0; j < d; j++) {
                    row[j] += r * z[i][j];
                }
            }
        }
    }

    /** The class-balanced mean cross-entropy, without the L2 term. */
    static double loss(double[][] z, int[] y, double[] weight, double[][] w, double[] b) {
        double[] p = new double[b.length];
        double sum = 0;
        double total = 0;
        for (int i = 0; i < z.length; i++) {
            probabilities(z[i], w, b, p);
            sum += -weight[i] * Math.log(Math.max(p[y[i]], 1e-300));
            total += weight[i];
        }
        return sum / total;
    }

    private static void probabilities(double[] z, double[][] w, double[] b, double[] p) {
        double max = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < b.length; c++) {
            double s = b[c];
            double[] row = w[c];
            for (int j = 0; j < z.length; j++) {
                s += row[j] * z[j];
            }
            p[c] = s;
            max = Math.max(max, s);
        }
        double sum = 0;
        for (int c = 0; c < b.length; c++) {
            p[c] = Math.exp(p[c] - max);
            sum += p[c];
        }
        for (int c = 0; c < b.length; c++) {
            p[c] /= sum;
        }
    }

    private static double[][] copy(double[][] a) {
        double[][] out = new double[a.length][];
        for (int i = 0; i < a.length; i++) {
            out[i] = a[i].clone();
        }
        return out;
    }
}
