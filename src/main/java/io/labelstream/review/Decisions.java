package io.labelstream.review;

import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.ReviewDecision;

import java.time.Instant;
import java.util.Locale;

/** Turns what a reviewer chose on the page into the ImageReview record it stands for. */
final class Decisions {

    private Decisions() {
    }

    /**
     * @param decision CONFIRMED, DISMISSED or RELABELED (as the buttons send it, any case)
     * @param label    the new label; required for RELABELED, ignored otherwise
     * @throws IllegalArgumentException naming what is wrong with the request
     */
    static ImageReview review(ImageLabels item, String decision, String label, String reviewer, Instant at) {
        ReviewDecision chosen;
        try {
            chosen = ReviewDecision.valueOf(decision == null ? "" : decision.strip().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("decision must be CONFIRMED, DISMISSED or RELABELED, not '"
                    + decision + "'");
        }
        if (item.getFlags().isEmpty()) {
            throw new IllegalArgumentException(item.getId() + " carries no moderation flag to review");
        }
        ModerationFlag flag = item.getFlags().get(0);
        String after = switch (chosen) {
            case CONFIRMED -> flag.getLabel();
            case DISMISSED -> "";
            case RELABELED -> {
                if (label == null || label.isBlank()) {
                    throw new IllegalArgumentException("Relabel needs a label");
                }
                yield label.strip();
            }
        };
        return ImageReview.newBuilder().setId(item.getId()).setDecision(chosen).setLabel(after)
                .setReviewer(reviewer).setReviewedAt(at).setRule(flag.getRule()).setRuleLabel(flag.getLabel())
                .setModel(item.getModel()).setSource(item.getSource()).build();
    }
}
