package io.labelstream.image;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** Images as people send them: every format and pixel layout decodes to the same picture. */
class ImageFormatsTest {

    private final ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());
    private final ImagePreprocessor preprocessor = new ImagePreprocessor(PreprocessRecipe.IMAGENET, decoder);
    private final BufferedImage original = smooth(320, 240);
    private final float[] expected = tensor(original);

    @TempDir
    Path dir;

    @Test
    void losslessFormatsGiveExactlyTheOriginalsTensor() throws Exception {
        assertThat(tensorOf(write(original, "png"))).isEqualTo(expected);
        assertThat(tensorOf(write(original, "bmp"))).isEqualTo(expected);
        assertThat(tensorOf(write(original, "tiff"))).isEqualTo(expected);
        assertThat(tensorOf(write(withAlpha(original), "png"))).as("alpha is dropped").isEqualTo(expected);
    }

    @Test
    void lossyAndReducedFormatsStayClose() throws Exception {
        assertThat(meanAbsDiff(tensorOf(SyntheticImages.jpeg(original, 0.95f)))).isLessThan(0.03);
        assertThat(meanAbsDiff(tensorOf(progressiveJpeg(original)))).isLessThan(0.03);
        BufferedImage palette = convert(original, BufferedImage.TYPE_BYTE_INDEXED);
        assertThat(tensorOf(write(palette, "png"))).as("palette PNG").isEqualTo(tensor(palette));
        assertThat(tensorOf(write(palette, "gif"))).as("GIF").isEqualTo(tensor(palette));
        assertThat(meanAbsDiff(tensorOf(write(rgb16(original), "png")))).as("16-bit RGB PNG").isLessThan(0.01);
    }

    @Test
    void greyImagesRepeatTheirValueInEveryChannelWithoutGammaConversion() throws Exception {
        BufferedImage grey = convert(original, BufferedImage.TYPE_BYTE_GRAY);
        float[] fromPng = tensorOf(write(grey, "png"));
        float[] fromGrey16 = tensorOf(write(grey16(grey), "png"));
        float[] fromJpeg = tensorOf(SyntheticImages.jpeg(grey, 0.95f));
        BufferedImage rgbOfGrey = new BufferedImage(320, 240, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 240; y++) {
            for (int x = 0; x < 320; x++) {
                int v = grey.getRaster().getSample(x, y, 0);
                rgbOfGrey.setRGB(x, y, (v << 16) | (v << 8) | v);
            }
        }
        float[] reference = tensor(rgbOfGrey);
        assertThat(fromPng).isEqualTo(reference);
        assertThat(fromGrey16).isEqualTo(reference);
        assertThat(meanAbsDiff(fromJpeg, reference)).isLessThan(0.03);
    }

    @Test
    void cmykJpegDecodes() throws Exception {
        BufferedImage decoded = decoder.decode(cmykJpeg(160, 120));
        assertThat(decoded.getWidth()).isEqualTo(160);
        // C=0, M=Y=K=0 everywhere except the cyan-only left half: left is cyan-ish, right white-ish.
        Color left = new Color(decoded.getRGB(10, 60));
        Color right = new Color(decoded.getRGB(150, 60));
        assertThat(left.getRed()).isLessThan(120);
        assertThat(left.getGreen()).isGreaterThan(120);
        assertThat(right.getRed()).isGreaterThan(200);
        float[] out = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
        preprocessor.preprocess(cmykJpeg(160, 120), out);
    }

    @Test
    void exifOrientationIsApplied() throws Exception {
        // Stored 40×20: left half red, right half blue. Orientation 6 means "rotate 90° clockwise to view".
        BufferedImage stored = new BufferedImage(40, 20, BufferedImage.TYPE_3BYTE_BGR);
        Graphics2D g = stored.createGraphics();
        g.setColor(Color.RED);
        g.fillRect(0, 0, 20, 20);
        g.setColor(Color.BLUE);
        g.fillRect(20, 0, 20, 20);
        g.dispose();
        byte[] plain = SyntheticImages.jpeg(stored, 0.95f);
        for (int orientation = 1; orientation <= 8; orientation++) {
            byte[] file = withExifOrientation(plain, orientation);
            BufferedImage upright = decoder.decode(file);
            // The preprocessor's own decode path (which may keep pixels in a reused buffer) turns it upright too.
            float[] fromFile = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
            float[] fromUpright = new float[fromFile.length];
            preprocessor.preprocess(file, fromFile);
            preprocessor.preprocess(upright, fromUpright);
            assertThat(fromFile).as("orientation %d tensor", orientation).isEqualTo(fromUpright);
            boolean swapped = orientation >= 5;
            assertThat(upright.getWidth()).as("orientation %d", orientation).isEqualTo(swapped ? 20 : 40);
            // Where does the red (stored left) half end up?
            String redAt = switch (orientation) {
                case 1, 4 -> "left";
                case 2, 3 -> "right";
                case 5, 6 -> "top";
                default -> "bottom";
            };
            int x = redAt.equals("left") ? 5 : redAt.equals("right") ? 35 : 10;
            int y = redAt.equals("top") ? 5 : redAt.equals("bottom") ? 35 : 10;
            assertThat(new Color(upright.getRGB(x, y)).getRed()).as("orientation %d: red at %s", orientation, redAt)
                    .isGreaterThan(200);
        }
    }

    @Test
    void webpDecodesWhereCwebpCanMakeOne() throws Exception {
        Path png = dir.resolve("in.png");
        Files.write(png, write(original, "png"));
        Path webp = dir.resolve("out.webp");
        Process p;
        try {
            p = new ProcessBuilder("cwebp", "-quiet", "-lossless", png.toString(), "-o", webp.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("cwebp (Debian package 'webp') is not installed; .ci/run installs it");
            return;
        }
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).isZero();
        assertThat(tensorOf(Files.readAllBytes(webp))).as("lossless WebP").isEqualTo(expected);
    }

    private float[] tensorOf(byte[] encoded) throws ImageRejectedException {
        float[] out = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
        preprocessor.preprocess(encoded, out);
        return out;
    }

    private float[] tensor(BufferedImage image) {
        float[] out = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
        preprocessor.preprocess(image, out);
        return out;
    }

    private double meanAbsDiff(float[] actual) {
        return meanAbsDiff(actual, expected);
    }

    private static double meanAbsDiff(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += Math.abs(a[i] - b[i]);
        }
        return sum / a.length;
    }

    /** Smooth gradients with soft blobs: lossy codecs and palettes stay close to it. */
    static BufferedImage smooth(int w, int h) {
        BufferedImage image = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = (int) (127 + 120 * Math.sin(x / 37.0));
                int g = (int) (127 + 120 * Math.cos(y / 23.0));
                int b = (x * 255 / w + y * 255 / h) / 2;
                image.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return image;
    }

    static byte[] write(BufferedImage image, String format) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertThat(ImageIO.write(image, format, out)).as("writer for " + format).isTrue();
        return out.toByteArray();
    }

    static BufferedImage convert(BufferedImage image, int type) {
        BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), type);
        if (type == BufferedImage.TYPE_BYTE_GRAY) {
            // Luma by formula, so the grey values do not depend on Java2D's colour conversion.
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    Color c = new Color(image.getRGB(x, y));
                    out.getRaster().setSample(x, y, 0, (c.getRed() * 299 + c.getGreen() * 587 + c.getBlue() * 114) / 1000);
                }
            }
            return out;
        }
        Graphics2D g = out.createGraphics();
        g.drawImage(image, 0, 0, null);
        g.dispose();
        return out;
    }

    static BufferedImage withAlpha(BufferedImage image) {
        BufferedImage out = new BufferedImage(image.getWidth(), image.getHeight(), BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                out.setRGB(x, y, ((x * 255 / image.getWidth()) << 24) | (image.getRGB(x, y) & 0xFFFFFF));
            }
        }
        return out;
    }

    static BufferedImage rgb16(BufferedImage image) {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_sRGB), false, false,
                Transparency.OPAQUE, DataBuffer.TYPE_USHORT);
        WritableRaster raster = cm.createCompatibleWritableRaster(image.getWidth(), image.getHeight());
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                Color c = new Color(image.getRGB(x, y));
                raster.setPixel(x, y, new int[] {c.getRed() * 257, c.getGreen() * 257, c.getBlue() * 257});
            }
        }
        return new BufferedImage(cm, raster, false, null);
    }

    static BufferedImage grey16(BufferedImage grey) {
        BufferedImage out = new BufferedImage(grey.getWidth(), grey.getHeight(), BufferedImage.TYPE_USHORT_GRAY);
        for (int y = 0; y < grey.getHeight(); y++) {
            for (int x = 0; x < grey.getWidth(); x++) {
                out.getRaster().setSample(x, y, 0, grey.getRaster().getSample(x, y, 0) * 257);
            }
        }
        return out;
    }

    static byte[] progressiveJpeg(BufferedImage image) throws IOException {
        ImageWriter writer = ImageIO.getImageWritersByFormatName("jpeg").next();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            ImageWriteParam param = writer.getDefaultWriteParam();
            param.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
            writer.write(null, new IIOImage(image, null, null), param);
        } finally {
            writer.dispose();
        }
        return out.toByteArray();
    }

    /**
     * A CMYK JPEG as Photoshop writes them: four channels, inverted (255 = no ink), and an Adobe APP14 segment
     * saying so. Left half cyan, right half blank paper.
     */
    static byte[] cmykJpeg(int w, int h) throws IOException {
        WritableRaster raster = Raster.createInterleavedRaster(DataBuffer.TYPE_BYTE, w, h, 4, null);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                raster.setPixel(x, y, new int[] {x < w / 2 ? 0 : 255, 255, 255, 255});
            }
        }
        ImageWriter writer = null;
        for (var it = ImageIO.getImageWritersByFormatName("jpeg"); it.hasNext(); ) {
            ImageWriter candidate = it.next();
            if (candidate.getClass().getName().startsWith("com.sun")) {
                writer = candidate;
            }
        }
        assertThat(writer).isNotNull();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
            writer.setOutput(stream);
            ImageWriteParam param = writer.getDefaultWriteParam();
            writer.write(null, new IIOImage(raster, null, null), param);
        } finally {
            writer.dispose();
        }
        byte[] jpeg = out.toByteArray();
        // APP14 "Adobe": version 100, flags 0, 0, transform 0 (CMYK, no colour transform).
        byte[] adobe = {'A', 'd', 'o', 'b', 'e', 0, 100, 0, 0, 0, 0, 0};
        ByteBuffer withMarker = ByteBuffer.allocate(jpeg.length + 4 + adobe.length);
        withMarker.put(jpeg, 0, 2).put((byte) 0xFF).put((byte) 0xEE).putShort((short) (adobe.length + 2)).put(adobe);
        withMarker.put(jpeg, 2, jpeg.length - 2);
        return withMarker.array();
    }

    /** Inserts an EXIF APP1 segment (little-endian TIFF, IFD0 with one Orientation entry) after SOI. */
    static byte[] withExifOrientation(byte[] jpeg, int orientation) {
        ByteBuffer tiff = ByteBuffer.allocate(26).order(ByteOrder.LITTLE_ENDIAN);
        tiff.put((byte) 'I').put((byte) 'I').putShort((short) 42).putInt(8);
        tiff.putShort((short) 1);                                          // one entry
        tiff.putShort((short) 0x0112).putShort((short) 3).putInt(1);      // Orientation, SHORT, count 1
        tiff.putShort((short) orientation).putShort((short) 0);           // value, padded
        tiff.putInt(0);                                                    // no next IFD
        byte[] exif = new byte[6 + tiff.capacity()];
        System.arraycopy("Exif\0\0".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1), 0, exif, 0, 6);
        System.arraycopy(tiff.array(), 0, exif, 6, tiff.capacity());
        ByteBuffer out = ByteBuffer.allocate(jpeg.length + 4 + exif.length);
        out.put(jpeg, 0, 2);                                               // SOI
        out.put((byte) 0xFF).put((byte) 0xE1).putShort((short) (exif.length + 2)).put(exif);
        out.put(jpeg, 2, jpeg.length - 2);
        return out.array();
    }
}
