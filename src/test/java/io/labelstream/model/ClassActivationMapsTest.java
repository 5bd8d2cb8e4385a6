package io.labelstream.model;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SourceRegion;
import io.labelstream.image.SyntheticImages;
import io.labelstream.testing.ColourModel;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Class activation maps on a model whose right map is known by construction ({@link ColourModel}: class "red"
 * comes only from red pixels): the map peaks where the red square is, and its box maps the grid back onto source
 * images of several sizes and aspect ratios.
 */
class ClassActivationMapsTest {

    @TempDir
    Path dir;

    static LabelingEngine engine(Path model, Path labels, ExplainSettings explain) throws Exception {
        LoadedModel loaded = LoadedModel.load(model, labels, "colour", new SessionSettings(1), explain);
        return new LabelingEngine(loaded, new ImagePreprocessor(PreprocessRecipe.IMAGENET,
                new ImageDecoder(ImageLimits.defaults())), 2, Scores.OutputKind.AUTO, 1);
    }

    @Test
    void theRedMapPeaksOnTheRedSquareAndItsBoxCoversTheCropForEveryAspectRatio() throws Exception {
        Path model = ColourModel.write(dir.resolve("colour.onnx"));
        try (LabelingEngine engine = engine(model, ColourModel.labels(dir.resolve("labels.txt")),
                new ExplainSettings(1, false))) {
            for (int[] size : new int[][] {{224, 224}, {400, 300}, {300, 500}, {640, 256}, {256, 900}}) {
                int w = size[0];
                int h = size[1];
                SourceRegion seen = PreprocessRecipe.IMAGENET.region(w, h);
                // A red square in the seen part's bottom-right cell of the 7 × 7 grid.
                int side = (int) (seen.width() / 7);
                int x = (int) (seen.x() + seen.width() - side);
                int y = (int) (seen.y() + seen.height() - side);
                byte[] image = ColourModel.squareImage(w, h, x, y, side, Color.RED);
                ImageOutcome.Labeled labeled = (ImageOutcome.Labeled) engine.label(List.of(image)).outcomes().get(0);
                assertThat(labeled.top().get(0).label()).as("%dx%d", w, h).isEqualTo("red");
                assertThat(labeled.maps().explain().top()).isEqualTo(1);
                Activation map = labeled.maps().activation(0);
                assertThat(map.rows()).isEqualTo(7);
                assertThat(map.cols()).isEqualTo(7);
                assertThat(map.box()).isEqualTo(seen);
                assertThat(map.cell(6, 6)).as("%dx%d: the red square's cell", w, h).isEqualTo(255);
                int elsewhere = 0;
                for (int r = 0; r < 7; r++) {
                    for (int c = 0; c < 7; c++) {
                        elsewhere += r == 6 && c == 6 ? 0 : map.cell(r, c);
                    }
                }
                assertThat(elsewhere).as("%dx%d: mass outside the square's cell", w, h).isLessThan(255);
                // Nothing green: that class's map has nothing to show.
                assertThat(labeled.maps().activation(1).cells()).containsOnly(0);
            }
        }
    }

    @Test
    void aLargeJpegDecodedReducedStillGetsItsBoxInSourcePixels() throws Exception {
        Path model = ColourModel.write(dir.resolve("colour.onnx"));
        try (LabelingEngine engine = engine(model, null, new ExplainSettings(1, false))) {
            // 2400 × 1800 is decoded at half size (its shorter side stays at least twice the 256 the recipe needs).
            SourceRegion seen = PreprocessRecipe.IMAGENET.region(2400, 1800);
            int side = (int) (seen.width() / 7);
            byte[] jpeg = SyntheticImages.jpeg(ColourModel.square(2400, 1800, (int) seen.x(), (int) seen.y(), side,
                    Color.RED), 0.95f);
            ImageOutcome.Labeled labeled = (ImageOutcome.Labeled) engine.label(List.of(jpeg)).outcomes().get(0);
            Activation map = labeled.maps().activation(0);
            assertThat(map.box().x()).isCloseTo(seen.x(), within(2f));
            assertThat(map.box().y()).isCloseTo(seen.y(), within(2f));
            assertThat(map.box().width()).isCloseTo(seen.width(), within(2f));
            assertThat(map.box().height()).isCloseTo(seen.height(), within(2f));
            assertThat(map.cell(0, 0)).isEqualTo(255);
        }
    }

    @Test
    void theBoxIsTheCropMappedBackThroughTheResize() {
        // 400 × 300: shorter side 300 → 256, so 341 × 256; the 224 crop starts at (58, 16) (58.5 rounds to even).
        SourceRegion box = PreprocessRecipe.IMAGENET.region(400, 300);
        assertThat(box.x()).isCloseTo(58 * 400f / 341, within(1e-3f));
        assertThat(box.y()).isCloseTo(16 * 300f / 256, within(1e-3f));
        assertThat(box.width()).isCloseTo(224 * 400f / 341, within(1e-3f));
        assertThat(box.height()).isCloseTo(224 * 300f / 256, within(1e-3f));
        // An exact resize shows the whole image.
        assertThat(PreprocessRecipe.CIFAR10.region(50, 20)).isEqualTo(new SourceRegion(0, 0, 50, 20));
    }

    @Test
    void aModelWithoutPoolingIsRefusedNamingTheTailItHas() throws Exception {
        Path model = ColourModel.writeWithoutPooling(dir.resolve("flat.onnx"));
        assertThatThrownBy(() -> LoadedModel.load(model, null, "flat", new SessionSettings(1),
                new ExplainSettings(1, false)))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("global average pooling and a linear classifier")
                .hasMessageContaining("from Relu node 'relu' (through [Flatten])")
                .hasMessageContaining("Gemm node 'output'");
        // Without maps it is an ordinary classifier.
        try (LoadedModel loaded = LoadedModel.load(model, null, "flat", new SessionSettings(1))) {
            assertThat(loaded.activationMaps()).isNull();
        }
    }

    @Test
    void startUpStopsNamingExplainTopWhenTheModelHasNoPoolingAndLinearTail() throws Exception {
        Path flat = ColourModel.writeWithoutPooling(dir.resolve("flat.onnx"));
        Map<String, String> settings = Map.of(Settings.MODEL_PATH.key(), flat.toString(),
                Settings.PREPROCESS_PRESET.key(), "imagenet", Settings.EXPLAIN_TOP.key(), "1");
        assertThatThrownBy(() -> EngineFactory.create(LabelstreamConfig.of(settings)))
                .isInstanceOf(ConfigException.class)
                .hasMessageContaining("explain.top='1'")
                .hasMessageContaining("not from a global average pooling")
                .hasMessageContaining("set explain.top=0");
        Path pooled = ColourModel.write(dir.resolve("colour.onnx"));
        assertThatThrownBy(() -> EngineFactory.create(LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(),
                pooled.toString(), Settings.EXPLAIN_TOP.key(), "3", Settings.MODEL_TOP_K.key(), "2"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("explain.top='3'")
                .hasMessageContaining("model.top.k is 2");
        // Maps wanted on flags only: such a model still labels, its flags without maps.
        try (LabelingEngine engine = EngineFactory.create(LabelstreamConfig.of(Map.of(Settings.MODEL_PATH.key(),
                flat.toString(), Settings.MODERATION_RULES.key(), "reds:index=0>=0.5")))) {
            assertThat(engine.primaryModel().explain().forFlags()).isTrue();
            assertThat(engine.primaryModel().activationMaps()).isNull();
        }
    }

    @Test
    void withoutExplainingTheSessionPutsOutNoFeatureMap() throws Exception {
        Path model = ColourModel.write(dir.resolve("colour.onnx"));
        try (LabelingEngine engine = engine(model, null, ExplainSettings.NONE)) {
            ImageOutcome.Labeled labeled = (ImageOutcome.Labeled) engine.label(List.of(
                    ColourModel.squareImage(224, 224, 0, 0, 32, Color.GREEN))).outcomes().get(0);
            assertThat(labeled.top().get(0).index()).isEqualTo(1);
            assertThat(labeled.maps()).isNull();
            assertThat(engine.primaryModel().inferencePool().mapShape()).isNull();
        }
    }
}
