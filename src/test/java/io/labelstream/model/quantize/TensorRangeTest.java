package io.labelstream.model.quantize;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class TensorRangeTest {

    @Test
    void minMaxIsTheObservedRangeAndItsEncodingMatchesOnnxRuntimes() {
        TensorRange r = new TensorRange(false);
        r.add(new float[] {-0.5f, 0.25f, 2f});
        r.add(new float[] {1f, -1f});
        assertThat(r.range(CalibrationMethod.MINMAX, 99.999)).containsExactly(-1.0, 2.0);
        // ORT: scale = (rmax - rmin) / 255, zero point = round(-rmin / scale).
        QdqRewriter.Encoding e = QdqRewriter.Encoding.of(-1, 2);
        assertThat(e.scale()).isCloseTo(3f / 255f, within(1e-7f));
        assertThat(e.zeroPoint()).isEqualTo(85);
        // A range that excludes 0 is widened to include it; a ReLU output gets zero point 0.
        assertThat(QdqRewriter.Encoding.of(0.5, 4).zeroPoint()).isZero();
        assertThat(QdqRewriter.Encoding.of(0.5, 4).scale()).isCloseTo(4f / 255f, within(1e-7f));
        assertThat(QdqRewriter.Encoding.of(0, 0)).isEqualTo(new QdqRewriter.Encoding(1f, 0));
    }

    @Test
    void percentileCutsOutliersButNeverWidensTheObservedRange() {
        TensorRange r = new TensorRange(true);
        Random random = new Random(1);
        float[] values = new float[100_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) Math.abs(random.nextGaussian()); // like a ReLU output
        }
        values[0] = 1000f; // one outlier
        r.add(values);
        double[] range = r.range(CalibrationMethod.PERCENTILE, 99.9);
        assertThat(range[0]).isGreaterThanOrEqualTo(0);
        assertThat(range[1]).isBetween(3.0, 4.5); // |N(0,1)| 99.9th percentile ≈ 3.29, to a bin of 1000/2048
        assertThat(r.range(CalibrationMethod.PERCENTILE, 100)[1]).isEqualTo(1000.0, within(1e-3));
    }

    @Test
    void theHistogramWidensWhenLargerValuesArriveLaterAndKeepsWhatItCounted() {
        TensorRange r = new TensorRange(true);
        float[] small = new float[10_000];
        java.util.Arrays.fill(small, 0.1f);
        r.add(small);
        r.add(new float[] {10f});
        // 99 % of the mass is at 0.1: the 99th percentile lies in the bin holding 0.1, not near 10.
        assertThat(r.range(CalibrationMethod.PERCENTILE, 99)[1]).isLessThan(0.2);
    }

    @Test
    void entropyKeepsTheBulkOfABellCurveAndDropsFarOutliers() {
        TensorRange r = new TensorRange(true);
        Random random = new Random(2);
        float[] values = new float[200_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        values[0] = 50f;
        r.add(values);
        double[] range = r.range(CalibrationMethod.ENTROPY, 99.999);
        assertThat(range[1]).isBetween(2.0, 10.0);
        assertThat(range[0]).isBetween(-10.0, -2.0);
    }
}
