package io.labelstream.image;

import java.awt.image.BufferedImage;

/** The image makers of ImageFormatsTest and ImageDecoderTest, for tests in other packages. */
public final class ImageFormatsTestAccess {

    private ImageFormatsTestAccess() {
    }

    public static byte[] cmykJpeg() throws Exception {
        return ImageFormatsTest.cmykJpeg(160, 120);
    }

    public static BufferedImage rgb16(BufferedImage image) {
        return ImageFormatsTest.rgb16(image);
    }

    public static BufferedImage withAlpha(BufferedImage image) {
        return ImageFormatsTest.withAlpha(image);
    }

    public static BufferedImage palette(BufferedImage image) {
        return ImageFormatsTest.convert(image, BufferedImage.TYPE_BYTE_INDEXED);
    }

    public static BufferedImage grey(BufferedImage image) {
        return ImageFormatsTest.convert(image, BufferedImage.TYPE_BYTE_GRAY);
    }

    public static byte[] progressive(BufferedImage image) throws java.io.IOException {
        return ImageFormatsTest.progressiveJpeg(image);
    }

    public static byte[] exif(byte[] jpeg, int orientation) {
        return ImageFormatsTest.withExifOrientation(jpeg, orientation);
    }

    public static byte[] pngHeaderOnly(int w, int h) throws Exception {
        return ImageDecoderTest.pngHeaderOnly(w, h);
    }
}
