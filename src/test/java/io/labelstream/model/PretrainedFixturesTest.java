package io.labelstream.model;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.TensorLayout;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Real trained weights, so that a wrong channel order, scale or normalisation shows up as wrong answers. Uses
 * ../shared/fixtures (see its README); skipped with the reason where it is absent.
 */
class PretrainedFixturesTest {

    @Test
    void cifar10ResNet20GetsAtLeast98Of100RightThroughTheCifar10Preset() throws Exception {
        Path dir = Fixtures.dir().resolve("models/cifar10-resnet20");
        List<Path> images;
        try (Stream<Path> files = Files.list(Fixtures.dir().resolve("images/cifar10"))) {
            images = files.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        assertThat(images).hasSize(100);
        LoadedModel model = LoadedModel.load(dir.resolve("model.onnx"), dir.resolve("labels.txt"), null,
                SessionSettings.defaults());
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PreprocessRecipe.CIFAR10,
                new ImageDecoder(ImageLimits.defaults()), TensorLayout.NCHW), 5, Scores.OutputKind.AUTO, 2)) {
            // A fixed batch of 1: the engine must split a 100-image batch into 100 runs.
            assertThat(model.input().fixedBatch()).isEqualTo(1);
            List<byte[]> bytes = new ArrayList<>();
            for (Path p : images) {
                bytes.add(Files.readAllBytes(p));
            }
            BatchOutcome result = engine.label(bytes);
            int top1 = 0;
            int top5 = 0;
            for (int i = 0; i < images.size(); i++) {
                String truth = images.get(i).getFileName().toString().replaceAll("\\d+\\.png$", "");
                var labels = ((ImageOutcome.Labeled) result.outcomes().get(i)).top();
                top1 += labels.get(0).label().equals(truth) ? 1 : 0;
                top5 += labels.stream().anyMatch(l -> l.label().equals(truth)) ? 1 : 0;
            }
            System.out.printf("cifar10-resnet20 on 100 fixture images: top-1 %d/100, top-5 %d/100%n", top1, top5);
            assertThat(top1).isGreaterThanOrEqualTo(98);
            assertThat(top5).isEqualTo(100);
            assertThat(result.inferred()).isEqualTo(100);
        }
    }

    @Test
    void mobileNetV2Int8RunsThroughTheImagenetPresetWithItsLabels() throws Exception {
        Path dir = Fixtures.dir().resolve("models/mobilenetv2-12-int8");
        LoadedModel model = LoadedModel.load(dir.resolve("model.onnx"), dir.resolve("labels.txt"), null,
                SessionSettings.defaults());
        try (LabelingEngine engine = new LabelingEngine(model, new ImagePreprocessor(PreprocessRecipe.IMAGENET,
                new ImageDecoder(ImageLimits.defaults()), TensorLayout.NCHW), 5, Scores.OutputKind.AUTO, 2)) {
            assertThat(model.input().dynamicBatch()).isTrue();
            assertThat(model.labels().size()).isEqualTo(1000);
            assertThat(model.labels().name(0)).isEqualTo("tench");
            List<byte[]> bytes = new ArrayList<>();
            for (String name : List.of("airplane1.png", "ship3.png", "truck2.png", "cat4.png")) {
                bytes.add(Files.readAllBytes(Fixtures.dir().resolve("images/cifar10").resolve(name)));
            }
            BatchOutcome result = engine.label(bytes);
            assertThat(result.inferred()).isEqualTo(4);
            for (ImageOutcome o : result.outcomes()) {
                var labels = ((ImageOutcome.Labeled) o).top();
                assertThat(labels).hasSize(5);
                assertThat(labels.get(0).score()).isBetween(0f, 1f);
                assertThat(labels.get(0).label()).isEqualTo(model.labels().name(labels.get(0).index()));
            }
            // The same image alone and in a batch of four gives the same answer (dynamic batch used fully).
            var alone = ((ImageOutcome.Labeled) engine.label(List.of(bytes.get(2))).outcomes().get(0)).top();
            var inBatch = ((ImageOutcome.Labeled) result.outcomes().get(2)).top();
            assertThat(alone.get(0).index()).isEqualTo(inBatch.get(0).index());
            assertThat(alone.get(0).score()).isCloseTo(inBatch.get(0).score(), within(1e-3f));
        }
    }

    /**
     * An ImageNet primary and a CIFAR-10 side model with its own recipe: each image is decoded once, and the side
     * model's answers are exactly those of the same model run alone through its own recipe.
     */
    @Test
    void aSideModelWithItsOwnRecipeLabelsFromThePrimarysDecodeExactlyAsItDoesAlone() throws Exception {
        Path mobilenet = Fixtures.dir().resolve("models/mobilenetv2-12-int8");
        Path resnet20 = Fixtures.dir().resolve("models/cifar10-resnet20");
        List<Path> images;
        try (Stream<Path> files = Files.list(Fixtures.dir().resolve("images/cifar10"))) {
            images = files.filter(p -> p.toString().endsWith(".png")).sorted().limit(40).toList();
        }
        List<byte[]> bytes = new ArrayList<>();
        for (Path p : images) {
            bytes.add(Files.readAllBytes(p));
        }
        LabelstreamConfig primaryAlone = LabelstreamConfig.of(Map.of(
                Settings.MODEL_PATH.key(), mobilenet.resolve("model.onnx").toString(),
                Settings.MODEL_LABELS_PATH.key(), mobilenet.resolve("labels.txt").toString()));
        LabelstreamConfig both = primaryAlone
                .with(Settings.MODELS_EXTRA.key(), "cifar")
                .with(Settings.SIDE_MODEL_PATH.forModel("cifar").key(), resnet20.resolve("model.onnx").toString())
                .with(Settings.SIDE_MODEL_LABELS.forModel("cifar").key(), resnet20.resolve("labels.txt").toString())
                .with(Settings.SIDE_MODEL_TOP_K.forModel("cifar").key(), "3")
                .with(Settings.SIDE_MODEL_PREPROCESS_PRESET.forModel("cifar").key(), "cifar10");
        LabelstreamConfig sideAlone = LabelstreamConfig.of(Map.of(
                Settings.MODEL_PATH.key(), resnet20.resolve("model.onnx").toString(),
                Settings.MODEL_LABELS_PATH.key(), resnet20.resolve("labels.txt").toString(),
                Settings.MODEL_TOP_K.key(), "3",
                Settings.PREPROCESS_PRESET.key(), "cifar10"));
        BatchOutcome together;
        String primaryRecipeHash;
        try (LabelingEngine engine = EngineFactory.create(both)) {
            together = engine.label(bytes);
            primaryRecipeHash = engine.recipeHash();
        }
        BatchOutcome primaryOnly;
        try (LabelingEngine engine = EngineFactory.create(primaryAlone)) {
            primaryOnly = engine.label(bytes);
        }
        BatchOutcome sideOnly;
        try (LabelingEngine engine = EngineFactory.create(sideAlone)) {
            sideOnly = engine.label(bytes);
            assertThat(together.sides()).singleElement().satisfies(side -> {
                assertThat(side.recipeName()).isEqualTo("cifar10");
                assertThat(side.recipeHash()).isEqualTo(engine.recipeHash()).isNotEqualTo(primaryRecipeHash);
            });
        }
        BatchOutcome.SideOutcome side = together.sides().get(0);
        int correct = 0;
        for (int i = 0; i < images.size(); i++) {
            var alone = ((ImageOutcome.Labeled) sideOnly.outcomes().get(i)).top();
            var beside = ((ImageOutcome.Labeled) side.outcomes().get(i)).top();
            assertThat(beside).as(images.get(i) + " by the side model").isEqualTo(alone);
            assertThat(((ImageOutcome.Labeled) together.outcomes().get(i)).top())
                    .as(images.get(i) + " by the primary").isEqualTo(
                            ((ImageOutcome.Labeled) primaryOnly.outcomes().get(i)).top());
            String truth = images.get(i).getFileName().toString().replaceAll("\\d+\\.png$", "");
            correct += beside.get(0).label().equals(truth) ? 1 : 0;
        }
        assertThat(correct).as("CIFAR-10 top-1 of the side model").isGreaterThanOrEqualTo(38);
    }

    @Test
    void aSideModelThatDoesNotFitThePrimarysRecipeOrAShadowWithOtherClassesStopsStartUpNamingTheSetting() {
        Path mobilenet = Fixtures.dir().resolve("models/mobilenetv2-12-int8");
        Path resnet20 = Fixtures.dir().resolve("models/cifar10-resnet20");
        LabelstreamConfig config = LabelstreamConfig.of(Map.of(
                Settings.MODEL_PATH.key(), mobilenet.resolve("model.onnx").toString(),
                Settings.MODEL_LABELS_PATH.key(), mobilenet.resolve("labels.txt").toString(),
                Settings.MODELS_EXTRA.key(), "cifar",
                Settings.SIDE_MODEL_PATH.forModel("cifar").key(), resnet20.resolve("model.onnx").toString(),
                Settings.SIDE_MODEL_LABELS.forModel("cifar").key(), resnet20.resolve("labels.txt").toString()));
        assertThatThrownBy(() -> EngineFactory.create(config).close())
                .isInstanceOf(io.labelstream.config.ConfigException.class)
                .hasMessageContaining("models.cifar.path=")
                .hasMessageContaining("224×224 images but the model's input 'input' is 32×32")
                .hasMessageContaining("models.cifar.preprocess.*");
        LabelstreamConfig shadow = config
                .with(Settings.SIDE_MODEL_PREPROCESS_PRESET.forModel("cifar").key(), "cifar10")
                .with(Settings.SIDE_MODEL_SHADOW.forModel("cifar").key(), "true");
        assertThatThrownBy(() -> EngineFactory.create(shadow).close())
                .isInstanceOf(io.labelstream.config.ConfigException.class)
                .hasMessageContaining("shadow cifar has 10 classes, but models.cifar.shadow=true compares it with the"
                        + " primary, which has 1000");
        // The same check guards every reload: a primary replaced by one with the shadow's classes passes, and a
        // shadow replaced by one with other classes does not.
        LabelSet ten = LabelSet.numbered(10);
        EngineFactory.checkShadowClasses(shadow, ten, Map.of("cifar", ten));
        assertThatThrownBy(() -> EngineFactory.checkShadowClasses(shadow, LabelSet.numbered(1000),
                Map.of("cifar", ten))).hasMessageContaining("models.cifar.shadow=true");
        EngineFactory.checkShadowClasses(config, LabelSet.numbered(1000), Map.of("cifar", ten)); // not a shadow
        assertThatThrownBy(() -> EngineFactory.create(config
                .with(Settings.SIDE_MODEL_PREPROCESS_CROP.forModel("cifar").key(), "32x3x2")).close())
                .isInstanceOf(io.labelstream.config.ConfigException.class)
                .hasMessageContaining("models.cifar.preprocess.crop");
    }
}
