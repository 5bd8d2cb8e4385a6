package io.labelstream.model;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.JpegDecoding;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SyntheticImages;
import io.labelstream.image.TensorLayout;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class TensorBatchTest {

    @Test
    void float16ConversionRoundsToNearestEvenAndKeepsSpecialValues() {
        float[] exact = {0f, -0f, 1f, -2f, 0.5f, 65504f, 6.1035156e-5f, 5.9604645e-8f, Float.POSITIVE_INFINITY};
        for (float v : exact) {
            assertThat(TensorBatch.Float16.toFloat(TensorBatch.Float16.fromFloat(v))).isEqualTo(v);
        }
        assertThat(TensorBatch.Float16.fromFloat(1f)).isEqualTo((short) 0x3C00);
        assertThat(TensorBatch.Float16.fromFloat(70000f)).isEqualTo((short) 0x7C00); // overflow → infinity
        assertThat(Float.isNaN(TensorBatch.Float16.toFloat(TensorBatch.Float16.fromFloat(Float.NaN)))).isTrue();
        // 1 + 2^-11 lies halfway between 1 and 1 + 2^-10: ties go to the even mantissa (1).
        assertThat(TensorBatch.Float16.fromFloat(1f + 0x1p-11f)).isEqualTo((short) 0x3C00);
        assertThat(TensorBatch.Float16.fromFloat(1f + 0x1p-11f + 0x1p-20f)).isEqualTo((short) 0x3C01);
        for (int i = -2000; i <= 2000; i++) {
            float v = i / 97f;
            float back = TensorBatch.Float16.toFloat(TensorBatch.Float16.fromFloat(v));
            assertThat(Math.abs(back - v)).isLessThanOrEqualTo(Math.abs(v) * 0x1p-11f + 1e-7f);
        }
    }

    @Test
    void nhwcIsTheTransposeOfNchwAndBgrSwapsChannels() throws Exception {
        ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());
        byte[] jpeg = SyntheticImages.jpeg(300, 200, 3);
        float[] nchw = new float[3 * 224 * 224];
        float[] nhwc = new float[3 * 224 * 224];
        float[] bgr = new float[3 * 224 * 224];
        new ImagePreprocessor(PreprocessRecipe.IMAGENET, decoder, TensorLayout.NCHW).preprocess(jpeg, nchw);
        new ImagePreprocessor(PreprocessRecipe.IMAGENET, decoder, TensorLayout.NHWC).preprocess(jpeg, nhwc);
        PreprocessRecipe swapped = new PreprocessRecipe("bgr", PreprocessRecipe.ResizeMode.SHORTER_SIDE, 256, 224, 224,
                PreprocessRecipe.PixelScale.UNIT, PreprocessRecipe.IMAGENET.mean(), PreprocessRecipe.IMAGENET.std(),
                PreprocessRecipe.ChannelOrder.BGR, true);
        new ImagePreprocessor(swapped, decoder, TensorLayout.NCHW).preprocess(jpeg, bgr);
        int plane = 224 * 224;
        float[] mean = PreprocessRecipe.IMAGENET.mean();
        float[] std = PreprocessRecipe.IMAGENET.std();
        for (int p = 0; p < plane; p += 37) {
            for (int c = 0; c < 3; c++) {
                assertThat(nhwc[p * 3 + c]).isEqualTo(nchw[c * plane + p]);
            }
            // BGR puts blue first, normalized with the statistics listed first (here the R ones, as given).
            float blueLevel = nchw[2 * plane + p] * std[2] + mean[2];
            assertThat(bgr[p]).isCloseTo((blueLevel - mean[0]) / std[0], org.assertj.core.api.Assertions.within(1e-4f));
        }
        assertThat(swapped.hash(JpegDecoding.JDK)).isNotEqualTo(PreprocessRecipe.IMAGENET.hash(JpegDecoding.JDK))
                .hasSize(16);
        assertThat(PreprocessRecipe.IMAGENET.hash(JpegDecoding.JDK))
                .isNotEqualTo(PreprocessRecipe.IMAGENET.hash(JpegDecoding.LIBJPEG_TURBO));
    }
}
