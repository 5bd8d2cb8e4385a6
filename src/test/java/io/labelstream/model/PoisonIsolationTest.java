package io.labelstream.model;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.schema.FailureReason;
import io.labelstream.testing.PoisonableModel;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class PoisonIsolationTest {

    private static LabelingEngine engine() throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        return new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 2);
    }

    @Test
    void onlyTheImagesThatBreakInferenceFailTheRestOfTheBatchIsLabeled() throws Exception {
        int[] levels = {10, 20, 150, 33, 47, 200, 58, 99};
        List<byte[]> images = new ArrayList<>();
        for (int level : levels) {
            images.add(PoisonableModel.image(level));
        }
        try (LabelingEngine engine = engine()) {
            BatchOutcome result = engine.label(images);
            for (int i = 0; i < levels.length; i++) {
                ImageOutcome outcome = result.outcomes().get(i);
                int expectedClass = PoisonableModel.classFor(levels[i] % PoisonableModel.ROWS);
                if (levels[i] >= PoisonableModel.ROWS) {
                    assertThat(outcome).as("image %d", i).isInstanceOfSatisfying(ImageOutcome.Rejected.class, r -> {
                        assertThat(r.reason()).isEqualTo(FailureReason.MODEL_ERROR);
                        assertThat(r.message()).contains("alone");
                    });
                } else {
                    assertThat(outcome).as("image %d", i).isInstanceOfSatisfying(ImageOutcome.Labeled.class,
                            l -> assertThat(l.top().get(0).index()).isEqualTo(expectedClass));
                }
            }
        }
    }

    @Test
    void aBatchSplitOverIdleWorkersIsolatesTheBadImagesInEachPartOnItsOwnWorker() throws Exception {
        SessionSettings twoWorkers = new SessionSettings(1, 1, "all", null, ExecutionProvider.parse("cpu:0,1"), false);
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", twoWorkers);
        int[] levels = {10, 150, 20, 33, 47, 58, 200, 99};
        List<byte[]> images = new ArrayList<>();
        for (int level : levels) {
            images.add(PoisonableModel.image(level));
        }
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 2)) {
            BatchOutcome result = engine.label(images);
            for (int i = 0; i < levels.length; i++) {
                ImageOutcome outcome = result.outcomes().get(i);
                if (levels[i] >= PoisonableModel.ROWS) {
                    assertThat(outcome).as("image %d", i).isInstanceOfSatisfying(ImageOutcome.Rejected.class,
                            r -> assertThat(r.message()).contains("alone"));
                } else {
                    int expectedClass = PoisonableModel.classFor(levels[i] % PoisonableModel.ROWS);
                    assertThat(outcome).as("image %d", i).isInstanceOfSatisfying(ImageOutcome.Labeled.class,
                            l -> assertThat(l.top().get(0).index()).isEqualTo(expectedClass));
                }
            }
            // One bad image in each half: each half was bisected on its own worker, which both labeled images.
            assertThat(model.inferencePool().stats()).allSatisfy(s -> {
                assertThat(s.images()).as("worker %d", s.device()).isPositive();
                assertThat(s.inFlight()).isZero();
            });
        }
    }

    @Test
    void aBatchWithoutPoisonRunsOnceAndABatchOfOnlyPoisonFailsEveryImage() throws Exception {
        try (LabelingEngine engine = engine()) {
            BatchOutcome clean = engine.label(List.of(PoisonableModel.image(1), PoisonableModel.image(2)));
            assertThat(clean.outcomes()).allMatch(o -> o instanceof ImageOutcome.Labeled);
            BatchOutcome poison = engine.label(List.of(PoisonableModel.image(100), PoisonableModel.image(255),
                    PoisonableModel.image(128)));
            assertThat(poison.outcomes()).allMatch(o -> o instanceof ImageOutcome.Rejected r
                    && r.reason() == FailureReason.MODEL_ERROR);
        }
    }

    @Test
    void bisectionStopsAtItsDeadlineAndSaysSoForTheImagesItCouldNotClearNeverLabelingThemWrongly() throws Exception {
        LoadedModel model = LoadedModel.load(PoisonableModel.file(), null, "poisonable", new SessionSettings(1));
        // No time at all for bisection: the first failure is all there is.
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 2, java.time.Duration.ZERO)) {
            BatchOutcome result = engine.label(List.of(PoisonableModel.image(10), PoisonableModel.image(150),
                    PoisonableModel.image(20), PoisonableModel.image(30)));
            assertThat(result.outcomes()).allSatisfy(o -> assertThat(o).isInstanceOfSatisfying(
                    ImageOutcome.Rejected.class, r -> {
                        assertThat(r.reason()).isEqualTo(FailureReason.MODEL_ERROR);
                        assertThat(r.message()).contains("could not be isolated within 0 ms")
                                .contains("kafka.producer.transaction.timeout.ms");
                    }));
            // With time, the same batch is bisected down to its one culprit.
            BatchOutcome clean = engine.label(List.of(PoisonableModel.image(10), PoisonableModel.image(20)));
            assertThat(clean.outcomes()).allMatch(o -> o instanceof ImageOutcome.Labeled);
        }
    }

    @Test
    void theBisectionBudgetIsTheCallersNotAKafkaSettingTheEngineReads() throws Exception {
        // A transaction timeout of 1 ms in the configuration: an engine that read it could isolate nothing.
        LabelstreamConfig config = LabelstreamConfig.of(Map.of("model.path", PoisonableModel.file().toString(),
                "preprocess.preset", "cifar10", "preprocess.scale", "byte", "preprocess.mean", "0,0,0",
                "preprocess.std", "1,1,1", "preprocess.reduced.decode", "false", "model.top.k", "1",
                "kafka.producer.transaction.timeout.ms", "1"));
        List<byte[]> batch = List.of(PoisonableModel.image(10), PoisonableModel.image(150), PoisonableModel.image(20),
                PoisonableModel.image(30));
        try (LabelingEngine engine = EngineFactory.create(config)) {
            List<ImageOutcome> outcomes = engine.label(batch).outcomes();
            assertThat(outcomes.get(1)).isInstanceOfSatisfying(ImageOutcome.Rejected.class,
                    r -> assertThat(r.message()).contains("alone"));
            assertThat(List.of(outcomes.get(0), outcomes.get(2), outcomes.get(3)))
                    .allMatch(o -> o instanceof ImageOutcome.Labeled);
        }
        // Given no time, the bad image is not isolated (nor are those in its part of the batch, if it was split).
        try (LabelingEngine engine = EngineFactory.create(config, Duration.ZERO)) {
            assertThat(engine.label(batch).outcomes().get(1)).isInstanceOfSatisfying(ImageOutcome.Rejected.class,
                    r -> assertThat(r.message()).contains("could not be isolated within 0 ms"));
        }
    }
}
