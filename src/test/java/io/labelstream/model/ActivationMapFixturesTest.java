package io.labelstream.model;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SourceRegion;
import io.labelstream.image.SyntheticImages;
import io.labelstream.image.TensorLayout;
import io.labelstream.testing.Fixtures;
import org.junit.jupiter.api.Test;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Class activation maps on the real fixtures (../shared/fixtures; skipped where absent): the CIFAR ResNet-20
 * (float, fixed batch of 1) and the Model Zoo's MobileNetV2-int8 (QLinear operators, so its feature map and
 * classifier weights are dequantized). Maps of the right size, labels unchanged by the extra output, and a
 * photo pasted into one quadrant of a larger canvas gives a map whose mass lies in that quadrant.
 */
class ActivationMapFixturesTest {

    static List<byte[]> cifarImages(int count) throws Exception {
        List<Path> files;
        try (Stream<Path> list = Files.list(Fixtures.dir().resolve("images/cifar10"))) {
            files = list.filter(p -> p.toString().endsWith(".png")).sorted().toList();
        }
        List<byte[]> images = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            images.add(Files.readAllBytes(files.get(i * files.size() / count)));
        }
        return images;
    }

    private static LabelingEngine engine(String model, PreprocessRecipe recipe, ExplainSettings explain)
            throws Exception {
        Path dir = Fixtures.dir().resolve("models").resolve(model);
        LoadedModel loaded = LoadedModel.load(dir.resolve("model.onnx"), dir.resolve("labels.txt"), null,
                new SessionSettings(2), explain);
        return new LabelingEngine(loaded, new ImagePreprocessor(recipe, new ImageDecoder(ImageLimits.defaults()),
                TensorLayout.NCHW), 5, Scores.OutputKind.AUTO, 1);
    }

    @Test
    void resNet20MapsAre8By8OverTheWholeImageAndLeaveItsLabelsAsTheyWere() throws Exception {
        List<byte[]> images = cifarImages(10);
        List<ImageOutcome> plain;
        try (LabelingEngine engine = engine("cifar10-resnet20", PreprocessRecipe.CIFAR10, ExplainSettings.NONE)) {
            plain = engine.label(images).outcomes();
        }
        try (LabelingEngine engine = engine("cifar10-resnet20", PreprocessRecipe.CIFAR10,
                new ExplainSettings(2, false))) {
            assertThat(engine.primaryModel().activationMaps().tail()).contains("GlobalAveragePool")
                    .contains("64 channels").contains("Gemm");
            List<ImageOutcome> explained = engine.label(images).outcomes();
            for (int i = 0; i < images.size(); i++) {
                ImageOutcome.Labeled before = (ImageOutcome.Labeled) plain.get(i);
                ImageOutcome.Labeled after = (ImageOutcome.Labeled) explained.get(i);
                assertThat(after.top()).isEqualTo(before.top());
                Activation map = after.maps().activation(after.top().get(0).index());
                assertThat(map.rows()).isEqualTo(8);
                assertThat(map.cols()).isEqualTo(8);
                assertThat(map.box()).isEqualTo(new SourceRegion(0, 0, 32, 32));
                assertThat(map.cells()).contains((byte) 255);
            }
        }
    }

    @Test
    void mobileNetV2Int8MapsAre7By7FromItsDequantizedQLinearTail() throws Exception {
        try (LabelingEngine engine = engine("mobilenetv2-12-int8", PreprocessRecipe.IMAGENET,
                new ExplainSettings(1, false))) {
            assertThat(engine.primaryModel().activationMaps().tail()).contains("QLinearGlobalAveragePool")
                    .contains("1280 channels").contains("QLinearMatMul").contains("1000 classes");
            ImageOutcome.Labeled labeled = (ImageOutcome.Labeled) engine.label(List.of(
                    SyntheticImages.jpeg(320, 240, 7))).outcomes().get(0);
            Activation map = labeled.maps().activation(labeled.top().get(0).index());
            assertThat(map.rows()).isEqualTo(7);
            assertThat(map.cols()).isEqualTo(7);
            assertThat(map.box()).isEqualTo(PreprocessRecipe.IMAGENET.region(320, 240));
            assertThat(map.cells()).contains((byte) 255);
        }
    }

    /**
     * For each quadrant, CIFAR photos pasted there on a 448² canvas of the ImageNet mean colour: the map of the class
     * the model gives the photo on its own lies in that quadrant (a quarter of the canvas) and peaks there.
     */
    @Test
    void aPhotoPastedIntoOneQuadrantGivesAMapWhoseMassLiesInThatQuadrant() throws Exception {
        List<byte[]> photos = cifarImages(20);
        try (LabelingEngine engine = engine("mobilenetv2-12-int8", PreprocessRecipe.IMAGENET,
                new ExplainSettings(1, false))) {
            List<byte[]> alone = new ArrayList<>();
            for (byte[] photo : photos) {
                alone.add(scaled(photo, 256));
            }
            List<ImageOutcome> own = engine.label(alone).outcomes();
            double sum = 0;
            int peaks = 0;
            int maps = 0;
            for (int quadrant = 0; quadrant < 4; quadrant++) {
                int qx = quadrant % 2 * 224;
                int qy = quadrant / 2 * 224;
                List<byte[]> canvases = new ArrayList<>();
                for (byte[] photo : photos) {
                    canvases.add(pasted(photo, qx, qy));
                }
                List<ImageOutcome> outcomes = engine.label(canvases).outcomes();
                for (int i = 0; i < photos.size(); i++) {
                    int photoClass = ((ImageOutcome.Labeled) own.get(i)).top().get(0).index();
                    Activation map = ((ImageOutcome.Labeled) outcomes.get(i)).maps().activation(photoClass);
                    sum += massIn(map, qx, qy, 224);
                    peaks += peakIn(map, qx, qy, 224) ? 1 : 0;
                    maps++;
                }
            }
            System.out.printf("mobilenetv2-int8, %d photos pasted in a quadrant: mean share of the map's mass in it"
                    + " %.2f (a quarter by chance), peak in it %d/%d%n", maps, sum / maps, peaks, maps);
            assertThat(sum / maps).isGreaterThan(0.6);
            assertThat(peaks).isGreaterThanOrEqualTo(maps * 17 / 20);
        }
    }

    /** Whether the map's highest cell has its centre in the square. */
    static boolean peakIn(Activation map, int x, int y, int side) {
        int best = 0;
        for (int p = 1; p < map.cells().length; p++) {
            best = (map.cells()[p] & 0xFF) > (map.cells()[best] & 0xFF) ? p : best;
        }
        double cx = map.box().x() + (best % map.cols() + 0.5) * map.box().width() / map.cols();
        double cy = map.box().y() + (best / map.cols() + 0.5) * map.box().height() / map.rows();
        return cx >= x && cx < x + side && cy >= y && cy < y + side;
    }

    static byte[] scaled(byte[] photo, int side) throws Exception {
        BufferedImage source = ImageIO.read(new ByteArrayInputStream(photo));
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(source, 0, 0, side, side, null);
        g.dispose();
        return SyntheticImages.png(out);
    }

    /** A 448² grey canvas with the photo scaled to 224² at {@code (x, y)}, as a PNG. */
    static byte[] pasted(byte[] photo, int x, int y) throws Exception {
        BufferedImage source = ImageIO.read(new ByteArrayInputStream(photo));
        BufferedImage canvas = new BufferedImage(448, 448, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = canvas.createGraphics();
        g.setColor(new Color(124, 116, 104)); // the ImageNet mean, so the canvas itself says little
        g.fillRect(0, 0, 448, 448);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BICUBIC);
        g.drawImage(source, x, y, 224, 224, null);
        g.dispose();
        return SyntheticImages.png(canvas);
    }

    /**
     * The share of the map's mass whose cells lie in the source square at {@code (x, y)} of side {@code side}: each
     * cell spreads its value over its part of the box, weighted by how much of it the square covers.
     */
    static double massIn(Activation map, int x, int y, int side) {
        SourceRegion box = map.box();
        double cellW = box.width() / map.cols();
        double cellH = box.height() / map.rows();
        double inside = 0;
        double total = 0;
        for (int r = 0; r < map.rows(); r++) {
            for (int c = 0; c < map.cols(); c++) {
                double x0 = box.x() + c * cellW;
                double y0 = box.y() + r * cellH;
                double overlapW = Math.max(0, Math.min(x0 + cellW, x + side) - Math.max(x0, x));
                double overlapH = Math.max(0, Math.min(y0 + cellH, y + side) - Math.max(y0, y));
                double value = map.cell(r, c);
                inside += value * overlapW * overlapH / (cellW * cellH);
                total += value;
            }
        }
        return total == 0 ? 0 : inside / total;
    }
}
