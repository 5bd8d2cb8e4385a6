package io.labelstream.image;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.ComponentSampleModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;

/**
 * 8-bit RGB samples of a decoded image, read in place from the decoder's own byte array where its layout allows
 * (the usual JPEG, PNG and grey cases), so no full-image conversion copy is made on the hot path.
 *
 * <p>Grey images repeat their one sample for R, G and B, as Pillow's {@code convert("RGB")} does (the JDK's
 * {@code getRGB} would instead gamma-convert from its linear grey space). An alpha channel is dropped, also as
 * Pillow does.
 *
 * <p>A reduced decode ({@link ImageDecoder}) keeps the source image's upright size in {@code sourceWidth} and
 * {@code sourceHeight}; otherwise they are the width and height.
 *
 * <p>Public so that one decode can feed several recipes ({@link ImagePreprocessor#decode}); read-only to them.
 */
public record RgbPixels(byte[] data, int width, int height, int pixelStride, int rowStride, int red, int green, int blue,
                        int sourceWidth, int sourceHeight) {

    /** Pixels decoded at the source's own size. */
    public RgbPixels(byte[] data, int width, int height, int pixelStride, int rowStride, int red, int green, int blue) {
        this(data, width, height, pixelStride, rowStride, red, green, blue, width, height);
    }

    /**
     * The same pixels, decoded (reduced) from an upright source image of {@code width × height}: what a region
     * found on the decoded pixels is mapped back to.
     */
    public RgbPixels fromSource(int width, int height) {
        return new RgbPixels(data, this.width, this.height, pixelStride, rowStride, red, green, blue, width, height);
    }

    static RgbPixels of(BufferedImage image) {
        RgbPixels direct = direct(image);
        if (direct == null) {
            direct = sixteenBit(image);
        }
        return direct != null ? direct : converted(image);
    }

    /** 16-bit grey or RGB(A) keeps its most significant byte, as an 8-bit decoder would produce. */
    private static RgbPixels sixteenBit(BufferedImage image) {
        Raster raster = image.getRaster();
        if (!(raster.getDataBuffer() instanceof java.awt.image.DataBufferUShort)
                || !(image.getColorModel() instanceof ComponentColorModel colors) || colors.isAlphaPremultiplied()) {
            return null;
        }
        int components = colors.getNumColorComponents();
        boolean grey = colors.getColorSpace().getType() == ColorSpace.TYPE_GRAY && components == 1;
        if (!grey && !(colors.getColorSpace().isCS_sRGB() && components == 3)) {
            return null;
        }
        int w = image.getWidth();
        int h = image.getHeight();
        byte[] rgb = new byte[w * h * 3];
        int[] samples = new int[w * raster.getNumBands()];
        int bands = raster.getNumBands();
        for (int y = 0, o = 0; y < h; y++) {
            raster.getPixels(0, y, w, 1, samples);
            for (int x = 0; x < w; x++, o += 3) {
                int base = x * bands;
                for (int c = 0; c < 3; c++) {
                    rgb[o + c] = (byte) (samples[base + (grey ? 0 : c)] >>> 8);
                }
            }
        }
        return new RgbPixels(rgb, w, h, 3, w * 3, 0, 1, 2);
    }

    private static RgbPixels direct(BufferedImage image) {
        Raster raster = image.getRaster();
        if (!(raster.getDataBuffer() instanceof DataBufferByte buffer) || buffer.getNumBanks() != 1
                || buffer.getOffset() != 0 || raster.getSampleModelTranslateX() != 0
                || raster.getSampleModelTranslateY() != 0
                || !(raster.getSampleModel() instanceof ComponentSampleModel model)
                || model.getDataType() != DataBuffer.TYPE_BYTE
                || !(image.getColorModel() instanceof ComponentColorModel colors)
                || colors.isAlphaPremultiplied()) {
            return null;
        }
        int[] offsets = model.getBandOffsets();
        ColorSpace space = colors.getColorSpace();
        int w = image.getWidth();
        int h = image.getHeight();
        if (space.getType() == ColorSpace.TYPE_GRAY && colors.getNumColorComponents() == 1) {
            return new RgbPixels(buffer.getData(), w, h, model.getPixelStride(), model.getScanlineStride(),
                    offsets[0], offsets[0], offsets[0]);
        }
        if (space.isCS_sRGB() && colors.getNumColorComponents() == 3) {
            return new RgbPixels(buffer.getData(), w, h, model.getPixelStride(), model.getScanlineStride(),
                    offsets[0], offsets[1], offsets[2]);
        }
        return null;
    }

    private static RgbPixels converted(BufferedImage image) {
        int w = image.getWidth();
        int h = image.getHeight();
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        byte[] rgb = new byte[argb.length * 3];
        for (int i = 0, j = 0; i < argb.length; i++, j += 3) {
            int p = argb[i];
            rgb[j] = (byte) (p >> 16);
            rgb[j + 1] = (byte) (p >> 8);
            rgb[j + 2] = (byte) p;
        }
        return new RgbPixels(rgb, w, h, 3, w * 3, 0, 1, 2);
    }
}
