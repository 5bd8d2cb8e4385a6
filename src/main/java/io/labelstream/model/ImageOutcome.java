package io.labelstream.model;

import io.labelstream.schema.FailureReason;

import java.util.List;

/** What the engine made of one image of a batch: labels, or the reason it has none. */
public sealed interface ImageOutcome permits ImageOutcome.Labeled, ImageOutcome.Rejected {

    /**
     * @param top           the best {@code model.top.k} classes, best first
     * @param probabilities every class's probability, for rules that look beyond the top k
     */
    record Labeled(List<ClassScore> top, float[] probabilities) implements ImageOutcome {
    }

    record Rejected(FailureReason reason, String message) implements ImageOutcome {
    }
}
