package io.labelstream.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SourceRegion;
import io.labelstream.testing.ColourModel;
import io.labelstream.testing.ConsoleCapture;
import io.labelstream.testing.ConsoleCapture.Captured;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.ImageIO;
import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * {@code classify} with class activation maps, on the model whose maps are known by construction: the JSON map and
 * its box, the compact map in the table, and the overlay PNG, hot on the red square and cold far from it.
 */
class ExplainCommandsTest {

    @TempDir
    Path dir;

    @Test
    void classifyPutsTheMapInTheJsonAndDrawsItOverTheImage() throws Exception {
        Path model = ColourModel.write(dir.resolve("colour.onnx"));
        Path labels = ColourModel.labels(dir.resolve("labels.txt"));
        SourceRegion seen = PreprocessRecipe.IMAGENET.region(400, 300);
        int side = (int) (seen.width() / 7);
        int x = (int) (seen.x() + 5 * seen.width() / 7) + 1;
        int y = (int) (seen.y() + seen.height() / 7) + 1;
        Path image = dir.resolve("square.png");
        Files.write(image, ColourModel.squareImage(400, 300, x, y, side - 2, Color.RED));

        Captured json = ConsoleCapture.run(() -> Main.execute("classify", "--model", model.toString(), "--labels",
                labels.toString(), "--top", "2", "-s", "explain.top=1", "--json", image.toString()));
        assertThat(json.exitCode()).as(json.err()).isZero();
        JsonNode line = new ObjectMapper().readTree(json.out().lines().filter(l -> l.startsWith("{")).findFirst()
                .orElseThrow());
        JsonNode red = line.get("labels").get(0);
        assertThat(red.get("label").asText()).isEqualTo("red");
        JsonNode activation = red.get("activation");
        assertThat(activation.get("rows").asInt()).isEqualTo(7);
        assertThat(activation.get("cols").asInt()).isEqualTo(7);
        assertThat(activation.get("cells")).hasSize(49);
        assertThat(activation.get("cells").get(7 + 5).asInt()).isEqualTo(255); // row 1, column 5
        assertThat(activation.get("box").get("x").floatValue()).isCloseTo(seen.x(), within(1e-3f));
        assertThat(activation.get("box").get("width").floatValue()).isCloseTo(seen.width(), within(1e-3f));
        assertThat(line.get("labels").get(1).has("activation")).as("only the best explain.top labels").isFalse();

        Path maps = dir.resolve("maps");
        Captured table = ConsoleCapture.run(() -> Main.execute("classify", "--model", model.toString(), "--labels",
                labels.toString(), "--top", "1", "-s", "explain.top=1", "--explain", maps.toString(),
                image.toString()));
        assertThat(table.exitCode()).as(table.err()).isZero();
        assertThat(table.out()).contains("red (").contains("|     █ |");
        BufferedImage overlay = ImageIO.read(maps.resolve("square-1-red.png").toFile());
        assertThat(overlay.getWidth()).isEqualTo(400);
        assertThat(overlay.getHeight()).isEqualTo(300);
        Color hot = new Color(overlay.getRGB(x + side / 2, y + side / 2));
        Color cold = new Color(overlay.getRGB((int) seen.x() + side / 2, (int) (seen.y() + seen.height()) - side / 2));
        assertThat(hot.getRed()).isGreaterThan(hot.getBlue());
        assertThat(cold.getBlue()).isGreaterThan(cold.getRed());
    }

    @Test
    void explainWithoutExplainTopSaysWhatIsMissing() throws Exception {
        Path model = ColourModel.write(dir.resolve("colour.onnx"));
        Path image = dir.resolve("square.png");
        Files.write(image, ColourModel.squareImage(224, 224, 0, 0, 32, Color.RED));
        Captured run = ConsoleCapture.run(() -> Main.execute("classify", "--model", model.toString(), "--explain",
                dir.resolve("maps").toString(), image.toString()));
        assertThat(run.exitCode()).isEqualTo(2);
        assertThat(run.err()).contains("--explain").contains("explain.top=N");
    }
}
