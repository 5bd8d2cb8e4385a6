package io.labelstream.review;

import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReview;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModelIdentity;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.ReviewDecision;
import io.labelstream.schema.SourceCoordinates;
import io.labelstream.schema.Timings;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReviewQueueTest {

    private static final Instant AT = Instant.parse("2026-01-01T00:00:00Z");

    static {
        // Building records needs Avro to trust labelstream's schema package, as the serdes arrange.
        io.labelstream.schema.AvroSerdes.imageLabels();
    }

    static ImageLabels flagged(String id) {
        return ImageLabels.newBuilder().setId(id)
                .setLabels(List.of(new Label(1, "red", 0.8f, null), new Label(0, "green", 0.2f, null)))
                .setModel(new ModelIdentity("colour", "1", "abcdef")).setBatchSize(1)
                .setTimings(new Timings(0.0, 0.0, 0.0)).setSource(new SourceCoordinates("in", 0, 3L))
                .setLabeledAt(AT).setFlags(List.of(new ModerationFlag("reds", 1, "red", 0.8f, 0.7f, null)))
                .build();
    }

    @Test
    void aDecisionTakesTheImageOutAndASecondIsRefusedNamingTheFirstReviewer() {
        ReviewQueue queue = new ReviewQueue();
        queue.flagged(flagged("a"));
        queue.flagged(flagged("b"));
        queue.flagged(flagged("a"));
        assertThat(queue.depth()).isEqualTo(2);
        ReviewQueue.Claim claim = queue.claim("a", "ana");
        assertThat(claim).isInstanceOf(ReviewQueue.Granted.class);
        assertThat(queue.claim("a", "bo")).isEqualTo(new ReviewQueue.Refused("a is being decided by ana"));
        ImageReview review = Decisions.review(((ReviewQueue.Granted) claim).item(), "confirmed", null, "ana", AT);
        assertThat(queue.decided(review)).isTrue();
        assertThat(queue.undecided()).extracting(ImageLabels::getId).containsExactly("b");
        assertThat(queue.claim("a", "bo")).isInstanceOf(ReviewQueue.Refused.class)
                .hasToString("Refused[reason=a was already decided by ana (CONFIRMED red)]");
        assertThat(queue.decided(review)).as("read back from the topic").isFalse();
        assertThat(queue.decision("a")).contains(review);
        assertThat(queue.decision("b")).isEmpty();
        assertThat(ReviewQueue.alreadyDecided(review)).isEqualTo(queue.claim("a", "cy"));
        assertThat(queue.claim("zzz", "bo")).isEqualTo(new ReviewQueue.Refused(
                "no flagged image zzz is waiting for a decision"));
    }

    @Test
    void aDecisionReadBeforeItsFlagKeepsTheFlagOutAndAReleasedClaimCanBeTakenAgain() {
        ReviewQueue queue = new ReviewQueue();
        queue.decided(Decisions.review(flagged("a"), "DISMISSED", null, "ana", AT));
        queue.flagged(flagged("a"));
        assertThat(queue.depth()).isZero();
        queue.flagged(flagged("b"));
        assertThat(queue.claim("b", "ana")).isInstanceOf(ReviewQueue.Granted.class);
        queue.release("b");
        assertThat(queue.claim("b", "bo")).isInstanceOf(ReviewQueue.Granted.class);
    }

    @Test
    void eachDecisionBecomesTheRecordItStandsFor() {
        ImageLabels item = flagged("a");
        ImageReview confirmed = Decisions.review(item, "CONFIRMED", "ignored", "ana", AT);
        assertThat(confirmed.getDecision()).isEqualTo(ReviewDecision.CONFIRMED);
        assertThat(confirmed.getLabel()).isEqualTo("red");
        assertThat(confirmed.getRule()).isEqualTo("reds");
        assertThat(confirmed.getRuleLabel()).isEqualTo("red");
        assertThat(confirmed.getModel()).isEqualTo(item.getModel());
        assertThat(confirmed.getSource()).isEqualTo(item.getSource());
        assertThat(Decisions.review(item, "DISMISSED", "x", "ana", AT).getLabel()).isEmpty();
        assertThat(Decisions.review(item, "RELABELED", " blue ", "ana", AT).getLabel()).isEqualTo("blue");
        assertThatThrownBy(() -> Decisions.review(item, "RELABELED", " ", "ana", AT))
                .hasMessage("Relabel needs a label");
        assertThatThrownBy(() -> Decisions.review(item, "maybe", null, "ana", AT))
                .hasMessageContaining("CONFIRMED, DISMISSED or RELABELED");
    }

    @Test
    void precisionIsConfirmedOverConfirmedAndDismissed() {
        ReviewQueue queue = new ReviewQueue();
        ReviewMetrics metrics = new ReviewMetrics(queue);
        assertThat(metrics.precision("reds")).isNaN();
        metrics.count(Decisions.review(flagged("a"), "CONFIRMED", null, "ana", AT));
        metrics.count(Decisions.review(flagged("b"), "CONFIRMED", null, "ana", AT));
        metrics.count(Decisions.review(flagged("c"), "DISMISSED", null, "ana", AT));
        metrics.count(Decisions.review(flagged("d"), "RELABELED", "blue", "ana", AT));
        assertThat(metrics.precision("reds")).isEqualTo(2.0 / 3);
        assertThat(metrics.counts().get("reds")).containsEntry(ReviewDecision.RELABELED, 1L);
        assertThat(metrics.scrape()).contains("labelstream_review_rule_precision{rule=\"reds\"} 0.666")
                .contains("labelstream_review_decisions_total{decision=\"CONFIRMED\",rule=\"reds\"} 2.0")
                .contains("labelstream_review_queue_depth 0.0");
    }
}
