package io.labelstream.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

class PilResampleCoefficientsTest {

    /** Upscales, the same size, downscales by small and large factors, and a crop window off the left edge. */
    @ParameterizedTest(name = "{0} -> {1}, outputs {2}+{3}")
    @CsvSource({"224,256,16,224", "256,256,0,256", "7,256,0,256", "1,256,0,256", "640,341,58,224", "4000,256,0,256",
            "333,256,0,256", "2,3,0,3"})
    void equalCountsKeepEverySumAndStayInsideTheSource(int inSize, int outSize, int from, int length) {
        PilResampleCoefficients pillow = PilResampleCoefficients.compute(inSize, outSize, from, length);
        PilResampleCoefficients padded = pillow.withEqualCounts(inSize);
        int taps = padded.kernelSize;
        Random random = new Random(inSize * 31L + outSize);
        int[] source = random.ints(inSize, 0, 256).toArray();
        int maxCount = 0;
        for (int at = 0; at < length; at++) {
            maxCount = Math.max(maxCount, pillow.count[at]);
            assertThat(padded.count[at]).isEqualTo(taps);
            assertThat(padded.first[at]).isBetween(0, inSize - taps);
            // The preprocessor counts the source rows it needs from the first and the last output alone.
            assertThat(padded.first[at]).isGreaterThanOrEqualTo(at == 0 ? 0 : padded.first[at - 1]);
            assertThat(sum(padded, at, source)).as("output %d", at).isEqualTo(sum(pillow, at, source));
        }
        assertThat(taps).isEqualTo(maxCount);
    }

    /** What lets the preprocessor's unclamped two-tap loop serve upscales and same-size resizes. */
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"224,256", "1,256", "2,3", "255,256", "256,256", "100,2000", "7,224"})
    void upscalesUseAtMostTwoTapsWhoseSumsStayInAByte(int inSize, int outSize) {
        PilResampleCoefficients padded = PilResampleCoefficients.compute(inSize, outSize).withEqualCounts(inSize);
        assertThat(padded.kernelSize).isLessThanOrEqualTo(2);
        assertThat(padded.sumsStayInByte).isTrue();
    }

    @Test
    void sumsStayInAByteOnlyWithNonNegativeWeightsThatAddUpToAtMostOneAndALittle() {
        int one = 1 << PilResampleCoefficients.PRECISION_BITS;
        assertThat(PilResampleCoefficients.sumsStayInByte(2, new int[] {one, 0, one / 2, one / 2})).isTrue();
        // 255 × (one + 1000) + a half is still below 256 × one; 255 × (one + 10,000) + a half is not.
        assertThat(PilResampleCoefficients.sumsStayInByte(2, new int[] {one / 2, one / 2 + 1000})).isTrue();
        assertThat(PilResampleCoefficients.sumsStayInByte(2, new int[] {one, 0, one / 2, one / 2 + 10_000}))
                .isFalse();
        assertThat(PilResampleCoefficients.sumsStayInByte(2, new int[] {-1, one + 1})).isFalse();
        // Even a 300,000-pixel row into one output keeps the triangle's rounded weights within that margin.
        assertThat(PilResampleCoefficients.compute(300_000, 1).sumsStayInByte).isTrue();
    }

    private static int sum(PilResampleCoefficients c, int at, int[] source) {
        int sum = 0;
        for (int i = 0; i < c.count[at]; i++) {
            sum += source[c.first[at] + i] * c.weights[at * c.kernelSize + i];
        }
        return sum;
    }
}
