package io.labelstream.model.adapt;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SoftmaxRegressionTest {

    /** Three Gaussian clusters in 20 dimensions with very different scales per feature, 40/10/5 points. */
    private static float[][] clusters(int[] y, long seed, double spread) {
        Random random = new Random(seed);
        float[][] x = new float[y.length][20];
        for (int i = 0; i < y.length; i++) {
            for (int j = 0; j < 20; j++) {
                double centre = j % 3 == y[i] ? 3 : 0;
                // Features differ in scale by 10^4: standardization has to absorb it.
                x[i][j] = (float) ((centre + spread * random.nextGaussian()) * Math.pow(10, j % 5 - 2));
            }
        }
        return x;
    }

    private static int[] labels(int... counts) {
        int n = 0;
        for (int c : counts) {
            n += c;
        }
        int[] y = new int[n];
        int i = 0;
        for (int c = 0; c < counts.length; c++) {
            for (int k = 0; k < counts[c]; k++) {
                y[i++] = c;
            }
        }
        return y;
    }

    private static double accuracy(Head head, float[][] x, int[] y) {
        int right = 0;
        for (int i = 0; i < x.length; i++) {
            right += head.predict(x[i]) == y[i] ? 1 : 0;
        }
        return (double) right / x.length;
    }

    @Test
    void learnsImbalancedClassesOnRawFeaturesOfVeryDifferentScales() {
        int[] y = labels(40, 10, 5);
        float[][] x = clusters(y, 1, 0.7);
        SoftmaxRegression.Fit fit = SoftmaxRegression.fit(x, y, 3, SoftmaxRegression.Options.defaults()
                .withMaxIterations(300), null, null);
        int[] yTest = labels(50, 50, 50);
        assertThat(accuracy(fit.head(), x, y)).isEqualTo(1.0);
        // The rarest class is found as often as the commonest: class balancing at work.
        float[][] test = clusters(yTest, 2, 0.7);
        int[] right = new int[3];
        for (int i = 0; i < test.length; i++) {
            right[yTest[i]] += fit.head().predict(test[i]) == yTest[i] ? 1 : 0;
        }
        assertThat(right[2]).isGreaterThanOrEqualTo(45);
        assertThat(right[0]).isGreaterThanOrEqualTo(45);
        assertThat(fit.iterations()).isEqualTo(300);
        assertThat(fit.ran()).isEqualTo(300);
        assertThat(fit.holdoutLoss()).isNaN();
    }

    @Test
    void theGradientIsTheLossesByFiniteDifferences() {
        Random random = new Random(9);
        int n = 12;
        int d = 5;
        int k = 3;
        double[][] z = new double[n][d];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = i % k;
            for (int j = 0; j < d; j++) {
                z[i][j] = random.nextGaussian();
            }
        }
        double[] weight = SoftmaxRegression.balancedWeights(new int[] {0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 1}, k);
        double l2 = 0.3;
        double[][] w = new double[k][d];
        double[] b = new double[k];
        for (int c = 0; c < k; c++) {
            b[c] = random.nextGaussian();
            for (int j = 0; j < d; j++) {
                w[c][j] = random.nextGaussian();
            }
        }
        double[][] gw = new double[k][d];
        double[] gb = new double[k];
        SoftmaxRegression.gradient(z, y, weight, w, b, l2, gw, gb);
        double h = 1e-6;
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < d; j++) {
                double keep = w[c][j];
                w[c][j] = keep + h;
                double up = objective(z, y, weight, w, b, l2);
                w[c][j] = keep - h;
                double down = objective(z, y, weight, w, b, l2);
                w[c][j] = keep;
                assertThat(gw[c][j]).isCloseTo((up - down) / (2 * h), org.assertj.core.api.Assertions.within(1e-6));
            }
            double keep = b[c];
            b[c] = keep + h;
            double up = objective(z, y, weight, w, b, l2);
            b[c] = keep - h;
            double down = objective(z, y, weight, w, b, l2);
            b[c] = keep;
            assertThat(gb[c]).isCloseTo((up - down) / (2 * h), org.assertj.core.api.Assertions.within(1e-6));
        }
    }

    /** The loss minimised: weighted mean cross-entropy plus l2 / 2 × ‖W‖² (the bias is not penalised). */
    private static double objective(double[][] z, int[] y, double[] weight, double[][] w, double[] b, double l2) {
        double norm = 0;
        for (double[] row : w) {
            for (double v : row) {
                norm += v * v;
            }
        }
        return SoftmaxRegression.loss(z, y, weight, w, b) + l2 / 2 * norm;
    }

    @Test
    void balancedWeightsGiveEveryClassTheSameTotal() {
        int[] y = labels(40, 10, 5);
        double[] w = SoftmaxRegression.balancedWeights(y, 4);
        double[] total = new double[4];
        for (int i = 0; i < y.length; i++) {
            total[y[i]] += w[i];
        }
        assertThat(total[0]).isEqualTo(total[1], org.assertj.core.api.Assertions.within(1e-9));
        assertThat(total[1]).isEqualTo(total[2], org.assertj.core.api.Assertions.within(1e-9));
        assertThat(total[0] * 3).isEqualTo(y.length, org.assertj.core.api.Assertions.within(1e-9));
    }

    @Test
    void stopsWhenTheHoldoutStopsImprovingAndRepeatsExactly() {
        // Overlapping clusters and more features than images: the training loss keeps falling, the holdout's not.
        int[] y = labels(8, 8, 8);
        float[][] x = clusters(y, 3, 3.0);
        int[] yHold = labels(10, 10, 10);
        float[][] hold = clusters(yHold, 4, 3.0);
        SoftmaxRegression.Options options = new SoftmaxRegression.Options(0, 5000, 50);
        SoftmaxRegression.Fit a = SoftmaxRegression.fit(x, y, 3, options, hold, yHold);
        SoftmaxRegression.Fit b = SoftmaxRegression.fit(x, y, 3, options, hold, yHold);
        assertThat(a.iterations()).isBetween(1, 4950);
        assertThat(a.ran()).isEqualTo(a.iterations() + 50);
        assertThat(a.holdoutLoss()).isFinite().isLessThan(Math.log(3));
        assertThat(b.iterations()).isEqualTo(a.iterations());
        assertThat(b.head().weights()).isDeepEqualTo(a.head().weights());
    }

    @Test
    void theHeadOnRawFeaturesIsTheHeadTrainedOnStandardizedOnes() {
        Random random = new Random(5);
        float[][] x = new float[30][6];
        for (float[] row : x) {
            for (int j = 0; j < row.length; j++) {
                row[j] = (float) (random.nextGaussian() * (j + 1) * 10 + j * 100);
            }
        }
        Standardizer s = Standardizer.of(x);
        double[][] w = new double[4][6];
        double[] b = {0.5, -1, 2, 0};
        for (double[] row : w) {
            for (int j = 0; j < row.length; j++) {
                row[j] = random.nextGaussian();
            }
        }
        Head head = Head.unstandardized(w, b, s);
        double[][] z = s.apply(x);
        for (int i = 0; i < x.length; i++) {
            for (int c = 0; c < 4; c++) {
                double standardized = b[c];
                double raw = head.bias()[c];
                for (int j = 0; j < 6; j++) {
                    standardized += w[c][j] * z[i][j];
                    raw += head.weights()[c][j] * x[i][j];
                }
                assertThat(raw).isCloseTo(standardized, org.assertj.core.api.Assertions.within(1e-3));
            }
        }
    }

    @Test
    void aConstantFeatureKeepsUnitScale() {
        float[][] x = {{1, 5}, {2, 5}, {3, 5}};
        Standardizer s = Standardizer.of(x);
        assertThat(s.std()[1]).isEqualTo(1.0);
        assertThat(s.apply(x)[0][1]).isZero();
    }

    @Test
    void theHoldoutTakesFromEveryClassAndNeverAllOfOne() {
        int[] y = labels(5, 2, 10, 3);
        boolean[] held = Adapter.stratifiedHoldout(y, 4, 0.2, 42);
        int[] heldPer = new int[4];
        int[] keptPer = new int[4];
        for (int i = 0; i < y.length; i++) {
            (held[i] ? heldPer : keptPer)[y[i]]++;
        }
        assertThat(heldPer).containsExactly(1, 1, 2, 1);
        assertThat(keptPer).containsExactly(4, 1, 8, 2);
        assertThat(Adapter.stratifiedHoldout(y, 4, 0.2, 42)).isEqualTo(held);
        assertThat(Adapter.stratifiedHoldout(y, 4, 0.2, 43)).isNotEqualTo(held);
    }

    @Test
    void aConfusionMatrixCountsTruthByPrediction() {
        ConfusionMatrix m = ConfusionMatrix.of(List.of("cat", "dog"), new int[] {0, 0, 1, 1, 1},
                new int[] {0, 1, 1, 1, 0});
        assertThat(m.counts()).isDeepEqualTo(new int[][] {{1, 1}, {1, 2}});
        assertThat(m.correct()).isEqualTo(3);
        assertThat(m.accuracy()).isEqualTo(0.6);
        assertThat(m.lines()).containsExactly("true   cat  dog", "cat      1    1", "dog      1    2");
    }

    @Test
    void badOptionsNameTheOption() {
        assertThatThrownBy(() -> new SoftmaxRegression.Options(-1, 10, 5)).hasMessageContaining("--l2");
        assertThatThrownBy(() -> new SoftmaxRegression.Options(0.1, 0, 5)).hasMessageContaining("--max-iterations");
        assertThatThrownBy(() -> new Adapter.Options(1.0, null, 1, 0.01, 10)).hasMessageContaining("--holdout");
    }
}
