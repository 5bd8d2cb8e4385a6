package io.labelstream.model;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.TensorLayout;
import io.labelstream.testing.Fixtures;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
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
}
