package io.labelstream.model;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ScoresTest {

    @Test
    void softmaxOfLogitsSumsToOneAndKeepsOrder() {
        float[] raw = {9f, 1f, 2f, 3f, 1000f, 1001f};
        float[] p = Scores.probabilities(raw, 4, 2, Scores.OutputKind.LOGITS);
        assertThat(p[0] + p[1]).isCloseTo(1f, within(1e-6f));
        // e^0 / (e^0 + e^1): large logits must not overflow.
        assertThat(p[0]).isCloseTo((float) (1 / (1 + Math.E)), within(1e-6f));
        assertThat(raw[4]).isEqualTo(1000f);
    }

    @Test
    void autoLeavesProbabilityRowsAloneAndSoftmaxesLogits() {
        float[] probs = {0.7f, 0.2f, 0.1f};
        assertThat(Scores.probabilities(probs, 0, 3, Scores.OutputKind.AUTO)).containsExactly(0.7f, 0.2f, 0.1f);
        float[] logits = {2f, 1f, 0f};
        float[] p = Scores.probabilities(logits, 0, 3, Scores.OutputKind.AUTO);
        assertThat(p[0]).isCloseTo(0.66524f, within(1e-4f));
        float[] probsForcedSoftmax = Scores.probabilities(probs, 0, 3, Scores.OutputKind.LOGITS);
        assertThat(probsForcedSoftmax[0]).isLessThan(0.7f);
    }

    @Test
    void topKIsBestFirstWithLowerIndexWinningTies() {
        float[] v = {0.1f, 0.5f, 0.3f, 0.5f, 0.05f, 0.9f};
        assertThat(Scores.topK(v, 3)).containsExactly(5, 1, 3);
        assertThat(Scores.topK(v, 1)).containsExactly(5);
        assertThat(Scores.topK(v, 10)).containsExactly(5, 1, 3, 2, 0, 4);
    }

    @Test
    void topKMatchesAFullSortOnRandomData() {
        java.util.Random r = new java.util.Random(7);
        for (int trial = 0; trial < 200; trial++) {
            float[] v = new float[1000];
            for (int i = 0; i < v.length; i++) {
                v[i] = r.nextInt(50) / 10f; // many ties
            }
            int k = 1 + r.nextInt(10);
            Integer[] order = new Integer[v.length];
            for (int i = 0; i < order.length; i++) {
                order[i] = i;
            }
            java.util.Arrays.sort(order, (a, b) -> v[a] != v[b] ? Float.compare(v[b], v[a]) : Integer.compare(a, b));
            int[] expected = new int[k];
            for (int i = 0; i < k; i++) {
                expected[i] = order[i];
            }
            assertThat(Scores.topK(v, k)).containsExactly(expected);
        }
    }
}
