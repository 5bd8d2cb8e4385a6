package io.labelstream.image;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.awt.image.BufferedImage;
import java.awt.image.DataBufferByte;
import java.io.IOException;
import java.io.InputStream;
import java.util.zip.GZIPInputStream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The ImageNet recipe against Pillow itself: src/test/python/pil_reference.py (run once with Debian's Pillow
 * 9.4, outputs committed under src/test/resources/pil-reference) applies torchvision's Resize(256) +
 * CenterCrop(224) to the same formula images. The tolerance is zero: every 8-bit value must match.
 */
class ImagePreprocessorPilTest {

    private final ImagePreprocessor preprocessor =
            new ImagePreprocessor(PreprocessRecipe.IMAGENET, new ImageDecoder(ImageLimits.defaults()));

    @ParameterizedTest(name = "{0}x{1}")
    @CsvSource({"640,480", "480,640", "333,500", "1000,250", "300,300", "224,224", "100,80", "257,1031"})
    void matchesPillowExactly(int w, int h) throws IOException {
        byte[] expected = reference(w, h);
        assertThat(crop8bit(preprocessor, formulaImage(w, h, BufferedImage.TYPE_3BYTE_BGR))).isEqualTo(expected);
        // The generic path (no direct raster access) must agree with the fast path.
        assertThat(crop8bit(preprocessor, formulaImage(w, h, BufferedImage.TYPE_INT_RGB))).isEqualTo(expected);
    }

    /** Runs an ImageNet preprocessor and maps the normalized floats back to 8 bits, HWC. */
    static byte[] crop8bit(ImagePreprocessor preprocessor, BufferedImage image) {
        int per = PreprocessRecipe.IMAGENET.valuesPerImage();
        float[] out = new float[per];
        preprocessor.preprocess(image, out);
        float[] mean = PreprocessRecipe.IMAGENET.mean();
        float[] std = PreprocessRecipe.IMAGENET.std();
        int plane = 224 * 224;
        byte[] hwc = new byte[per];
        for (int c = 0; c < 3; c++) {
            for (int i = 0; i < plane; i++) {
                float v = out[c * plane + i];
                int level = Math.round((v * std[c] + mean[c]) * 255f);
                assertThat(level).isBetween(0, 255);
                // The float written must be exactly torchvision's float for that level.
                assertThat(v).isEqualTo((level / 255f - mean[c]) / std[c]);
                hwc[i * 3 + c] = (byte) level;
            }
        }
        return hwc;
    }

    static int pixel(int x, int y, int c, int w, int h) {
        return (x * 7 + y * 13 + c * 50 + ((x * y) % 17) * 9 + (x * 255) / w + (y * 128) / h) % 256;
    }

    static BufferedImage formulaImage(int w, int h, int type) {
        BufferedImage image = new BufferedImage(w, h, type);
        if (type == BufferedImage.TYPE_3BYTE_BGR) {
            byte[] data = ((DataBufferByte) image.getRaster().getDataBuffer()).getData();
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int o = (y * w + x) * 3;
                    data[o] = (byte) pixel(x, y, 2, w, h);
                    data[o + 1] = (byte) pixel(x, y, 1, w, h);
                    data[o + 2] = (byte) pixel(x, y, 0, w, h);
                }
            }
        } else {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    image.setRGB(x, y, (pixel(x, y, 0, w, h) << 16) | (pixel(x, y, 1, w, h) << 8) | pixel(x, y, 2, w, h));
                }
            }
        }
        return image;
    }

    private static byte[] reference(int w, int h) throws IOException {
        String name = "/pil-reference/formula-" + w + "x" + h + ".rgb.gz";
        try (InputStream in = ImagePreprocessorPilTest.class.getResourceAsStream(name)) {
            assertThat(in).as(name).isNotNull();
            return new GZIPInputStream(in).readAllBytes();
        }
    }
}
