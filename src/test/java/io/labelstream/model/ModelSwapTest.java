package io.labelstream.model;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.testing.HeldBatch;
import io.labelstream.testing.PoisonableModel;
import io.labelstream.testing.TestModels;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Replacing the engine's model between batches, and the watcher that does it when the model files change. */
class ModelSwapTest {

    @TempDir
    Path dir;

    private static LoadedModel poisonable(int shift) throws Exception {
        return LoadedModel.load(PoisonableModel.file(shift), null, "poisonable", new SessionSettings(1));
    }

    private static LabelingEngine engine(LoadedModel model) {
        return new LabelingEngine(model, new ImagePreprocessor(PoisonableModel.RECIPE,
                new ImageDecoder(ImageLimits.defaults())), 1, Scores.OutputKind.AUTO, 1);
    }

    private static int topClass(BatchOutcome outcome) {
        return ((ImageOutcome.Labeled) outcome.outcomes().get(0)).top().get(0).index();
    }

    @Test
    void aBatchTakenBeforeASwapFinishesOnTheOldModelWhichClosesAfterItsLastUser() throws Exception {
        try (LabelingEngine engine = engine(poisonable(0))) {
            ModelSet old = engine.models();
            HeldBatch held = new HeldBatch(PoisonableModel.image(7), 1);
            CompletableFuture<BatchOutcome> taken = engine.submit(old, held, 1);
            held.awaitReached();
            Lease task = old.tryLease();
            assertThat(task).as("a task still holds it").isNotNull();

            LoadedModel next = poisonable(1);
            ModelId replaced = engine.swap(next, 4);

            assertThat(replaced).isEqualTo(old.primary().identity());
            assertThat(engine.models().primary().identity()).isEqualTo(next.identity());
            BatchOutcome after = engine.label(List.of(PoisonableModel.image(7)));
            assertThat(after.model()).isEqualTo(next.identity());
            assertThat(topClass(after)).isEqualTo(PoisonableModel.classFor(7, 1));

            held.release();
            BatchOutcome before = taken.get(60, TimeUnit.SECONDS);
            assertThat(before.model()).as("the batch taken before the swap").isEqualTo(old.primary().identity());
            assertThat(topClass(before)).isEqualTo(PoisonableModel.classFor(7, 0));
            assertThat(old.primary().isClosed()).as("open while the task holds it").isFalse();
            task.close();
            assertThat(old.primary().isClosed()).as("closed by its last user").isTrue();
            task.close();
            assertThat(old.tryLease()).as("a second close lets go once, and nothing holds the set again").isNull();
            assertThatThrownBy(() -> engine.submit(old, List.of(PoisonableModel.image(1)), 1))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("replaced and let go");
        }
    }

    @Test
    void aModelWhoseInputDoesNotFitThePreprocessingIsRefusedAndTheOldOneStays() throws Exception {
        try (LabelingEngine engine = engine(poisonable(0));
             LoadedModel other = LoadedModel.load(TestModels.resnet18(), null, null, new SessionSettings(1))) {
            ModelId before = engine.models().primary().identity();
            assertThatThrownBy(() -> engine.swap(other, 1)).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("makes 32×32 images").hasMessageContaining("224×224");
            assertThat(engine.models().primary().identity()).isEqualTo(before);
            assertThat(engine.models().primary().isClosed()).isFalse();
        }
    }

    /** What the watcher reported. */
    private static final class Reports implements ModelReloader.Listener {
        final List<ModelId> loaded = new CopyOnWriteArrayList<>();
        final List<String> refused = new CopyOnWriteArrayList<>();

        @Override
        public void loaded(ModelId replaced, ModelId now) {
            loaded.add(now);
        }

        @Override
        public void refused(String reason) {
            refused.add(reason);
        }
    }

    private static void replace(Path target, Path with) throws Exception {
        Path tmp = Files.createTempFile(target.getParent(), "next", ".part");
        Files.copy(with, tmp, StandardCopyOption.REPLACE_EXISTING);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static void replace(Path target, byte[] content) throws Exception {
        Path tmp = Files.createTempFile(target.getParent(), "next", ".part");
        Files.write(tmp, content);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /** Bounded, generous: the watcher looks every 50 ms, and loading takes what the machine needs. */
    private static ConditionFactory await(String what) {
        return Awaitility.await(what).atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20));
    }

    @Test
    void theWatcherSwitchesToAReplacedFileAndRefusesOnesThatDoNotLoadOrDoNotFit() throws Exception {
        Path model = dir.resolve("model.onnx");
        Path labels = dir.resolve("labels.txt");
        Files.copy(PoisonableModel.file(0), model);
        List<String> ten = java.util.stream.IntStream.range(0, 10).mapToObj(i -> "class " + i).toList();
        Files.write(labels, ten);
        Reports reports = new Reports();
        try (LabelingEngine engine = engine(LoadedModel.load(model, labels, "watched", new SessionSettings(1)));
             ModelReloader ignored = ModelReloader.start(new ModelReloader.Watched(model, labels, "watched",
                     new SessionSettings(1), 4, Duration.ofMillis(50)), engine, candidate -> {
                     }, reports)) {
            String first = engine.models().primary().identity().sha256();

            replace(model, PoisonableModel.file(1));
            await("the new model").until(() -> reports.loaded.size() == 1);
            assertThat(engine.models().primary().identity().sha256()).isEqualTo(LoadedModel.sha256(PoisonableModel.file(1)))
                    .isNotEqualTo(first);
            assertThat(topClass(engine.label(List.of(PoisonableModel.image(3))))).isEqualTo(PoisonableModel.classFor(3, 1));

            replace(model, "not an onnx model".getBytes());
            await("the corrupt file's refusal").until(() -> reports.refused.size() == 1);
            assertThat(reports.refused.get(0)).contains("does not load");

            // Back to a good model, but with a labels file of the wrong length beside it. A check of the watcher's
            // between the two replacements sees the corrupt model beside the new labels, new content it refuses as
            // not loading: so the wait is for the mismatch's own refusal, not for the next one.
            replace(labels, String.join("\n", ten.subList(0, 9)).getBytes());
            replace(model, PoisonableModel.file(0));
            await("the mismatched labels' refusal").until(() -> reports.refused.stream().anyMatch(r -> r.contains("9 lines")));
            assertThat(reports.refused).filteredOn(r -> r.contains("9 lines")).singleElement().asString()
                    .contains("10 classes");

            assertThat(reports.loaded).hasSize(1);
            assertThat(engine.models().primary().identity().sha256()).isEqualTo(LoadedModel.sha256(PoisonableModel.file(1)));
            assertThat(topClass(engine.label(List.of(PoisonableModel.image(3))))).as("the last good model labels")
                    .isEqualTo(PoisonableModel.classFor(3, 1));

            replace(labels, String.join("\n", ten).getBytes());
            await("the model with its labels fixed").until(() -> reports.loaded.size() == 2);
            assertThat(engine.models().primary().identity().sha256()).isEqualTo(first);
        }
    }

    @Test
    void aSideModelsFilesAreWatchedAndItAloneIsReplaced() throws Exception {
        Path side = dir.resolve("side.onnx");
        Files.copy(PoisonableModel.file(1), side);
        Reports reports = new Reports();
        try (LabelingEngine engine = engine(poisonable(0))) {
            engine.addSideModel("mod", LoadedModel.load(side, null, "mod", new SessionSettings(1)), 1);
            ServingModel oldSide = engine.models().side("mod").serving();
            try (ModelReloader ignored = ModelReloader.start(new ModelReloader.Watched(side, null, "mod",
                    new SessionSettings(1), 2, Duration.ofMillis(50), "mod"), engine, candidate -> {
                    }, reports)) {
                replace(side, PoisonableModel.file(2));
                await("the side model's swap").until(() -> reports.loaded.size() == 1);
                BatchOutcome outcome = engine.label(List.of(PoisonableModel.image(3)));
                assertThat(topClass(outcome)).as("the primary stays").isEqualTo(PoisonableModel.classFor(3, 0));
                BatchOutcome.SideOutcome mod = outcome.sides().get(0);
                assertThat(mod.name()).isEqualTo("mod");
                assertThat(mod.model().sha256()).isEqualTo(LoadedModel.sha256(PoisonableModel.file(2)));
                assertThat(((ImageOutcome.Labeled) mod.outcomes().get(0)).top().get(0).index())
                        .isEqualTo(PoisonableModel.classFor(3, 2));
                assertThat(oldSide.isClosed()).as("the replaced side model, unused").isTrue();
            }
        }
    }

    @Test
    void theCallersOwnCheckCanRefuseAModel() throws Exception {
        Path model = dir.resolve("model.onnx");
        Files.copy(PoisonableModel.file(0), model);
        Reports reports = new Reports();
        try (LabelingEngine engine = engine(LoadedModel.load(model, null, null, new SessionSettings(1)));
             ModelReloader ignored = ModelReloader.start(new ModelReloader.Watched(model, null, null,
                     new SessionSettings(1), 1, Duration.ofMillis(50)), engine, candidate -> {
                         throw new IllegalArgumentException("moderation.rules do not fit its labels");
                     }, reports)) {
            replace(model, PoisonableModel.file(1));
            await("the refusal").until(() -> reports.refused.size() == 1);
            assertThat(reports.refused.get(0)).isEqualTo("moderation.rules do not fit its labels");
            assertThat(engine.models().primary().identity().sha256()).isEqualTo(LoadedModel.sha256(PoisonableModel.file(0)));
        }
    }

    @Test
    void watchersStartedBeforeOneThatCannotStartAreStoppedNotLeftSwappingModels() throws Exception {
        Path model = dir.resolve("model.onnx");
        Files.copy(PoisonableModel.file(0), model);
        // The configuration names a side model the engine does not have: its watcher cannot start.
        LabelstreamConfig config = LabelstreamConfig.of(Map.of("model.path", model.toString(), "model.reload", "watch",
                "models.extra", "ghost", "models.ghost.path", model.toString()));
        try (LabelingEngine engine = engine(LoadedModel.load(model, null, null, new SessionSettings(1)))) {
            assertThatThrownBy(() -> EngineFactory.reloaders(config, engine, side -> candidate -> {
            }, new Reports())).isInstanceOf(RuntimeException.class);
            await("the primary's watcher to stop").until(() -> Thread.getAllStackTraces().keySet().stream()
                    .noneMatch(t -> t.getName().startsWith("labelstream-model-watch") && t.isAlive()));
        }
    }
}
