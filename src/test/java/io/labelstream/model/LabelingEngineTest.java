package io.labelstream.model;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.schema.FailureReason;
import io.labelstream.testing.HeldBatch;
import io.labelstream.testing.PoisonableModel;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class LabelingEngineTest {

    private static LabelingEngine engine() throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        assertThat(model.inferencePool().workers()).isEqualTo(1);
        return new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 1);
    }

    @Test
    void aBatchStillBeingDecodedCountsAsBusyAndItsTimeBecomesTheTypicalBatchTime() throws Exception {
        try (LabelingEngine engine = engine()) {
            assertThat(engine.hasIdleWorker()).isTrue();
            assertThat(engine.typicalBatchTime()).isZero();
            HeldBatch held = new HeldBatch(PoisonableModel.image(7), 2);
            CompletableFuture<BatchOutcome> result = engine.submit(held, 2);
            // Not yet at ONNX Runtime (its images cannot even be read), yet the engine is no longer idle.
            assertThat(engine.batchesInEngine()).isEqualTo(1);
            assertThat(engine.hasIdleWorker()).isFalse();
            held.awaitReached(); // its time runs from before this point
            // Not a wait for a fact: the batch is held this long so that its time is known to be at least that.
            Thread.sleep(300);
            held.release();
            BatchOutcome outcome = result.get(60, TimeUnit.SECONDS);
            assertThat(outcome.outcomes()).allMatch(o -> o instanceof ImageOutcome.Labeled);
            // Counted out before its outcome was visible.
            assertThat(engine.hasIdleWorker()).isTrue();
            assertThat(engine.typicalBatchTime()).isGreaterThanOrEqualTo(Duration.ofMillis(300));
        }
    }

    @Test
    void aBatchCancelledBeforeItStartedLeavesTheEngineIdleOnceTheOthersFinish() throws Exception {
        try (LabelingEngine engine = engine()) {
            // One worker has two batch threads: two held batches occupy both, the third waits for a thread.
            HeldBatch held = new HeldBatch(PoisonableModel.image(3), 1);
            CompletableFuture<BatchOutcome> first = engine.submit(held, 1);
            CompletableFuture<BatchOutcome> second = engine.submit(held, 1);
            CompletableFuture<BatchOutcome> third = engine.submit(List.of(PoisonableModel.image(4)), 1);
            assertThat(engine.batchesInEngine()).isEqualTo(3);
            third.cancel(false);
            held.release();
            first.get(60, TimeUnit.SECONDS);
            second.get(60, TimeUnit.SECONDS);
            // The cancelled batch's thread task still runs, finds it cancelled and counts it out.
            await("the cancelled batch counted out").atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(5))
                    .until(() -> engine.batchesInEngine() == 0);
            assertThat(engine.batchesInEngine()).isZero();
            assertThat(engine.hasIdleWorker()).isTrue();
        }
    }

    @Test
    void eachModelGivesEveryImageItsOutcomeAndOnlyThePrimaryTellsWhyAnImageCouldNotBeRead() throws Exception {
        try (LabelingEngine engine = engine()) {
            engine.addSideModel("mod", LoadedModel.load(PoisonableModel.file(1), null, "mod", new SessionSettings(1)),
                    1);
            BatchOutcome outcome = engine.label(List.of(PoisonableModel.image(10),
                    "not an image".getBytes(StandardCharsets.US_ASCII), PoisonableModel.image(150),
                    PoisonableModel.image(20)));
            List<ImageOutcome> primary = outcome.outcomes();
            List<ImageOutcome> side = outcome.sides().get(0).outcomes();
            assertThat(primary).hasSize(4);
            assertThat(side).hasSize(4);
            assertThat(((ImageOutcome.Labeled) primary.get(0)).top().get(0).index())
                    .isEqualTo(PoisonableModel.classFor(10, 0));
            assertThat(((ImageOutcome.Labeled) side.get(0)).top().get(0).index())
                    .isEqualTo(PoisonableModel.classFor(10, 1));
            assertThat(primary.get(1)).isInstanceOfSatisfying(ImageOutcome.Rejected.class,
                    r -> assertThat(r.reason()).isNotEqualTo(FailureReason.MODEL_ERROR));
            assertThat(side.get(1)).isNull();
            for (List<ImageOutcome> model : List.of(primary, side)) {
                assertThat(model.get(2)).isInstanceOfSatisfying(ImageOutcome.Rejected.class,
                        r -> assertThat(r.reason()).isEqualTo(FailureReason.MODEL_ERROR));
            }
            assertThat(((ImageOutcome.Labeled) primary.get(3)).top().get(0).index())
                    .isEqualTo(PoisonableModel.classFor(20, 0));
            assertThat(((ImageOutcome.Labeled) side.get(3)).top().get(0).index())
                    .isEqualTo(PoisonableModel.classFor(20, 1));
        }
    }
}
