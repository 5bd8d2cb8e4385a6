package io.labelstream.model;

import io.labelstream.schema.FailureReason;

import java.util.List;

/** What the engine made of one image of a batch: labels, or the reason it has none. */
public sealed interface ImageOutcome permits ImageOutcome.Labeled, ImageOutcome.Rejected {

    /**
     * @param top           the best {@code model.top.k} classes, best first
     * @param probabilities every class's probability, for rules that look beyond the top k
     * @param maps          what the image's class activation maps are made from; null when its model has none
     */
    record Labeled(List<ClassScore> top, float[] probabilities, ImageMaps maps) implements ImageOutcome {

        public Labeled(List<ClassScore> top, float[] probabilities) {
            this(top, probabilities, null);
        }
    }

    record Rejected(FailureReason reason, String message) implements ImageOutcome {
    }
}
