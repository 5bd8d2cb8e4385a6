package io.labelstream.image;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The preprocessor against Pillow's two passes written the plain way (interleaved rows, each output's own number
 * of taps, a clamp before the table), over what the Pillow reference test does not vary: pixel strides and channel
 * offsets, padded rows, tiny and thin images, both resize modes, BGR, NHWC and 0–255 scale. Equal to the bit.
 */
class ImagePreprocessorLayoutsTest {

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};

    @ParameterizedTest(name = "{0}x{1}, stride {2} + {3}, offsets {4}, {5} {6}, {7}, {8}")
    @CsvSource(delimiter = ';', value = {
            "37;23;3;0;0,1,2;SHORTER_SIDE;RGB;NCHW;UNIT",
            "150;90;4;5;2,1,0;SHORTER_SIDE;BGR;NHWC;BYTE",
            "64;64;4;0;1,2,3;SHORTER_SIDE;RGB;NHWC;UNIT",
            "1;1;1;3;0,0,0;EXACT;RGB;NCHW;UNIT",
            "300;7;3;1;2,0,1;EXACT;BGR;NCHW;UNIT",
            "2;300;1;0;0,0,0;SHORTER_SIDE;RGB;NCHW;UNIT",
            "500;400;3;0;0,1,2;EXACT;RGB;NCHW;BYTE",
            "41;40;3;2;2,1,0;EXACT;BGR;NHWC;UNIT"})
    void matchesThePlainTwoPassResize(int width, int height, int stride, int padding, String offsets,
                                      PreprocessRecipe.ResizeMode mode, PreprocessRecipe.ChannelOrder order,
                                      TensorLayout layout, PreprocessRecipe.PixelScale scale) {
        PreprocessRecipe recipe = new PreprocessRecipe("layouts", mode, 64, 56, 48, scale, MEAN, STD, order, false);
        ImagePreprocessor preprocessor = new ImagePreprocessor(recipe, new ImageDecoder(ImageLimits.defaults()), layout);
        int[] channel = Arrays.stream(offsets.split(",")).mapToInt(Integer::parseInt).toArray();
        RgbPixels pixels = randomPixels(width, height, stride, padding, channel, width * 31L + height);

        assertThat(preprocess(preprocessor, pixels)).isEqualTo(plainTwoPass(recipe, layout, pixels));
    }

    @Test
    void aThreadsBuffersAndWeightsServeImagesOfChangingSizesInTurn() {
        PreprocessRecipe recipe = PreprocessRecipe.IMAGENET;
        ImagePreprocessor preprocessor = new ImagePreprocessor(recipe, new ImageDecoder(ImageLimits.defaults()));
        // Larger and smaller in turn, a size repeated, and sizes that keep one side of the one before.
        int[][] sizes = {{300, 200}, {300, 200}, {20, 10}, {640, 30}, {640, 31}, {30, 640}, {31, 640}, {224, 224}};
        for (int[] size : sizes) {
            RgbPixels pixels = randomPixels(size[0], size[1], 3, 0, new int[] {0, 1, 2}, size[0] * 7L + size[1]);
            assertThat(preprocess(preprocessor, pixels)).as("%dx%d", size[0], size[1])
                    .isEqualTo(plainTwoPass(recipe, TensorLayout.NCHW, pixels));
        }
    }

    private static float[] preprocess(ImagePreprocessor preprocessor, RgbPixels pixels) {
        float[] out = new float[preprocessor.recipe().valuesPerImage()];
        preprocessor.preprocess(pixels, out);
        return out;
    }

    private static RgbPixels randomPixels(int width, int height, int stride, int padding, int[] channel, long seed) {
        int rowStride = width * stride + padding;
        byte[] data = new byte[rowStride * height];
        new Random(seed).nextBytes(data);
        return new RgbPixels(data, width, height, stride, rowStride, channel[0], channel[1], channel[2]);
    }

    /** Pillow's ImagingResample for 8-bit images: the whole horizontal pass, then the vertical one, per value. */
    private static float[] plainTwoPass(PreprocessRecipe recipe, TensorLayout layout, RgbPixels pixels) {
        PreprocessRecipe.Geometry geometry = recipe.geometry(pixels.width(), pixels.height());
        int cropW = recipe.cropWidth();
        int cropH = recipe.cropHeight();
        PilResampleCoefficients horizontal = PilResampleCoefficients.compute(pixels.width(),
                geometry.resizedWidth(), geometry.left(), cropW);
        PilResampleCoefficients vertical = PilResampleCoefficients.compute(pixels.height(),
                geometry.resizedHeight(), geometry.top(), cropH);
        int half = 1 << (PilResampleCoefficients.PRECISION_BITS - 1);
        int[] source = {pixels.red(), pixels.green(), pixels.blue()};

        int[][] resized = new int[pixels.height()][cropW * 3];
        for (int row = 0; row < pixels.height(); row++) {
            for (int x = 0; x < cropW; x++) {
                for (int c = 0; c < 3; c++) {
                    int sum = half;
                    for (int i = 0; i < horizontal.count[x]; i++) {
                        int at = row * pixels.rowStride() + (horizontal.first[x] + i) * pixels.pixelStride() + source[c];
                        sum += (pixels.data()[at] & 0xFF) * horizontal.weights[x * horizontal.kernelSize + i];
                    }
                    resized[row][x * 3 + c] = PilResampleCoefficients.clip8(sum);
                }
            }
        }

        boolean bgr = recipe.channelOrder() == PreprocessRecipe.ChannelOrder.BGR;
        float[] mean = recipe.mean();
        float[] std = recipe.std();
        float[] out = new float[recipe.valuesPerImage()];
        for (int y = 0; y < cropH; y++) {
            for (int x = 0; x < cropW; x++) {
                for (int c = 0; c < 3; c++) {
                    int sum = half;
                    for (int i = 0; i < vertical.count[y]; i++) {
                        sum += resized[vertical.first[y] + i][x * 3 + c]
                                * vertical.weights[y * vertical.kernelSize + i];
                    }
                    int level = PilResampleCoefficients.clip8(sum);
                    int outChannel = bgr ? 2 - c : c;
                    float value = recipe.scale() == PreprocessRecipe.PixelScale.UNIT ? level / 255f : level;
                    int index = layout == TensorLayout.NCHW
                            ? outChannel * cropW * cropH + y * cropW + x
                            : (y * cropW + x) * 3 + outChannel;
                    out[index] = (value - mean[outChannel]) / std[outChannel];
                }
            }
        }
        return out;
    }
}
