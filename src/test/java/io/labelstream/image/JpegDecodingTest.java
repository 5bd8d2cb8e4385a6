package io.labelstream.image;

import io.labelstream.schema.FailureReason;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * JPEG decoding against Pillow's own decode of the same files (made by src/test/python/pil_reference.py), with
 * libjpeg-turbo and with the JDK's reader, plus the header-checked limit, damage detection and DCT-domain scaling.
 */
class JpegDecodingTest {

    private final ImagePreprocessor preprocessor = new ImagePreprocessor(PreprocessRecipe.IMAGENET,
            new ImageDecoder(ImageLimits.defaults(), JpegDecoding.JDK));

    static Stream<Arguments> filesAndDecoders() {
        return Stream.of(JpegDecoding.values()).flatMap(decoding -> Stream.of("baseline-420", "progressive-444",
                "baseline-422", "grey").map(name -> Arguments.of(decoding, name)));
    }

    /**
     * Both decoders give Pillow's pixels exactly on these files (libjpeg 6b in the JDK and libjpeg-turbo share
     * the accurate integer IDCT and the smoothing chroma upsampling for 4:2:0 and 4:2:2; 6b does not smooth
     * 4:4:0, which is not covered here), so the crop is torchvision's.
     */
    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("filesAndDecoders")
    void decodesExactlyAsPillowAndTheCropIsTorchvisions(JpegDecoding decoding, String name) throws Exception {
        byte[] jpeg = resource("jpeg-" + name + ".jpg");
        if (decoding == JpegDecoding.LIBJPEG_TURBO) {
            requireTurbo();
            // libjpeg-turbo itself decodes it, rather than handing it to ImageIO.
            assertThat(TurboJpegDecoder.decode(jpeg, ImageLimits.defaults(), 0, false)).isNotNull();
        }
        ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults(), decoding);
        BufferedImage decoded = decode(decoder, jpeg);
        byte[] pillow = rgb(png("jpeg-" + name + ".decoded.png"));
        assertThat(rgb(decoded)).isEqualTo(pillow);
        assertThat(rgb(decoder.decodePixels(jpeg, 0))).as("the preprocessor's decode path").isEqualTo(pillow);
        assertThat(ImagePreprocessorPilTest.crop8bit(preprocessor, decoded))
                .isEqualTo(rgb(png("jpeg-" + name + ".crop.png")));
    }

    /** Reused buffers: a small image after large ones (thread buffer, then the shared one) decodes exactly. */
    @Test
    void aSmallImageAfterLargeOnesOnTheSameThreadStillDecodesExactly() throws Exception {
        requireTurbo();
        ImageDecoder turbo = new ImageDecoder(ImageLimits.defaults(), JpegDecoding.LIBJPEG_TURBO);
        byte[] small = resource("jpeg-baseline-420.jpg");
        byte[] grey = resource("jpeg-grey.jpg");
        byte[] pillow = rgb(png("jpeg-baseline-420.decoded.png"));
        byte[] pillowGrey = rgb(png("jpeg-grey.decoded.png"));
        // 9 MB (this thread's buffers), then 24 MB (the shared buffer), each followed by small colour and grey.
        for (byte[] large : List.of(SyntheticImages.jpeg(2048, 1536, 4), SyntheticImages.jpeg(4000, 2000, 5))) {
            RgbPixels big = turbo.decodePixels(large, 0);
            assertThat(big.width() * big.height()).isGreaterThan(3_000_000);
            assertThat(rgb(turbo.decodePixels(small, 0))).isEqualTo(pillow);
            assertThat(rgb(turbo.decodePixels(grey, 0))).isEqualTo(pillowGrey);
        }
    }

    @Test
    void largePhotosAreScaledInTheDctDomainKeepingTwiceTheResizeSize() throws Exception {
        requireTurbo();
        ImageDecoder turbo = new ImageDecoder(ImageLimits.defaults(), JpegDecoding.LIBJPEG_TURBO);
        int needed = PreprocessRecipe.IMAGENET.neededShorterSide();
        assertThat(size(turbo.decode(SyntheticImages.jpeg(4000, 3000, 7), needed))).isEqualTo("1000x750");
        assertThat(size(turbo.decode(SyntheticImages.jpeg(1920, 1080, 7), needed))).isEqualTo("960x540");
        assertThat(size(turbo.decode(SyntheticImages.jpeg(640, 480, 7), needed))).isEqualTo("640x480");
        // Under 4 × the needed size, nothing is reduced (so such images still match Pillow exactly).
        assertThat(size(turbo.decode(SyntheticImages.jpeg(1280, 960, 7), needed))).isEqualTo("1280x960");
        assertThat(size(turbo.decode(SyntheticImages.jpeg(2048, 1536, 7), needed))).isEqualTo("1024x768");
        assertThat(size(turbo.decode(SyntheticImages.jpeg(4000, 3000, 7), 0))).isEqualTo("4000x3000");

        // The reduced decode changes the tensor only slightly.
        byte[] photo = SyntheticImages.jpeg(2048, 1536, 8);
        float[] reduced = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
        float[] full = new float[reduced.length];
        new ImagePreprocessor(PreprocessRecipe.IMAGENET, turbo).preprocess(photo, reduced);
        new ImagePreprocessor(PreprocessRecipe.IMAGENET, turbo).preprocess(turbo.decode(photo), full);
        double sum = 0;
        for (int i = 0; i < full.length; i++) {
            sum += Math.abs(full[i] - reduced[i]);
        }
        assertThat(sum / full.length).isLessThan(0.03);
    }

    @ParameterizedTest
    @EnumSource(JpegDecoding.class)
    void aTruncatedJpegIsRejectedAsDamaged(JpegDecoding decoding) {
        if (decoding == JpegDecoding.LIBJPEG_TURBO) {
            requireTurbo();
        }
        byte[] jpeg = SyntheticImages.jpeg(320, 240, 3);
        ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults(), decoding);
        assertThatThrownBy(() -> decoder.decode(Arrays.copyOf(jpeg, jpeg.length * 2 / 3)))
                .isInstanceOfSatisfying(ImageRejectedException.class, e -> {
                    assertThat(e.reason()).isEqualTo(FailureReason.UNDECODABLE_IMAGE);
                    assertThat(e.getMessage()).contains("damaged");
                });
    }

    @ParameterizedTest
    @EnumSource(JpegDecoding.class)
    void aJpegBombIsRefusedFromItsHeader(JpegDecoding decoding) {
        if (decoding == JpegDecoding.LIBJPEG_TURBO) {
            requireTurbo();
        }
        byte[] bomb = withFrameSize(SyntheticImages.jpeg(16, 16, 1), 60_000, 60_000);
        ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults(), decoding);
        assertThatThrownBy(() -> decoder.decode(bomb)).isInstanceOfSatisfying(ImageRejectedException.class, e -> {
            assertThat(e.reason()).isEqualTo(FailureReason.TOO_LARGE);
            assertThat(e.getMessage()).contains("60000×60000").contains("image.max.pixels");
        });
    }

    @Test
    void namingADecoderThatCannotLoadFailsWithTheReasonElseAutoPicksTurboWhenInstalled() {
        assertThat(JpegDecoding.of("jdk")).isEqualTo(JpegDecoding.JDK);
        if (TurboJpeg.unavailableReason() == null) {
            assertThat(JpegDecoding.of("auto")).isEqualTo(JpegDecoding.LIBJPEG_TURBO);
            assertThat(JpegDecoding.of("libjpeg-turbo").describe()).contains("libturbojpeg");
        } else {
            assertThat(JpegDecoding.of("auto")).isEqualTo(JpegDecoding.JDK);
            assertThatThrownBy(() -> JpegDecoding.of("libjpeg-turbo")).hasMessageContaining("libturbojpeg");
        }
    }

    /** .ci/run installs libturbojpeg0, so under CI its absence is a failure, not a skip. */
    private static void requireTurbo() {
        String why = TurboJpeg.unavailableReason();
        if ("true".equals(System.getenv("CI"))) {
            assertThat(why).as("libturbojpeg under CI").isNull();
        }
        assumeTrue(why == null, () -> "libjpeg-turbo tests skipped: " + why);
    }

    private static BufferedImage decode(ImageDecoder decoder, byte[] bytes) {
        try {
            return decoder.decode(bytes);
        } catch (ImageRejectedException e) {
            throw new AssertionError(e);
        }
    }

    private static String size(BufferedImage image) {
        return image.getWidth() + "x" + image.getHeight();
    }

    /** 8-bit RGB, row by row, of any decoded image (grey repeated in each channel, as Pillow's convert does). */
    private static byte[] rgb(BufferedImage image) {
        return rgb(RgbPixels.of(image));
    }

    private static byte[] rgb(RgbPixels pixels) {
        byte[] out = new byte[pixels.width() * pixels.height() * 3];
        for (int y = 0, o = 0; y < pixels.height(); y++) {
            for (int x = 0; x < pixels.width(); x++, o += 3) {
                int q = y * pixels.rowStride() + x * pixels.pixelStride();
                out[o] = pixels.data()[q + pixels.red()];
                out[o + 1] = pixels.data()[q + pixels.green()];
                out[o + 2] = pixels.data()[q + pixels.blue()];
            }
        }
        return out;
    }

    /** Rewrites the SOF0 frame's height and width, leaving a small valid file that claims a huge image. */
    private static byte[] withFrameSize(byte[] jpeg, int width, int height) {
        byte[] out = jpeg.clone();
        for (int i = 2; i + 8 < out.length; i++) {
            if ((out[i] & 0xFF) == 0xFF && (out[i + 1] & 0xFF) == 0xC0) {
                out[i + 5] = (byte) (height >> 8);
                out[i + 6] = (byte) height;
                out[i + 7] = (byte) (width >> 8);
                out[i + 8] = (byte) width;
                return out;
            }
        }
        throw new AssertionError("no SOF0 marker");
    }

    private static BufferedImage png(String name) throws IOException {
        return ImageIO.read(new java.io.ByteArrayInputStream(resource(name)));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = JpegDecodingTest.class.getResourceAsStream("/pil-reference/" + name)) {
            assertThat(in).as(name).isNotNull();
            return in.readAllBytes();
        }
    }
}
