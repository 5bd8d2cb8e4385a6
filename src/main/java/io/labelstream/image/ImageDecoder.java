package io.labelstream.image;

import io.labelstream.schema.FailureReason;

import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.event.IIOReadWarningListener;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;

/**
 * Decodes encoded image bytes: JPEGs with libjpeg-turbo when chosen ({@link JpegDecoding}), everything else
 * with the JDK's ImageIO readers (TwelveMonkeys adds CMYK JPEG, WebP and TIFF). The header is read first so that
 * size limits are enforced before any pixel memory is allocated, and decoder warnings (e.g. a truncated JPEG,
 * which would otherwise come back half grey) are treated as errors.
 */
public final class ImageDecoder {

    private final ImageLimits limits;
    private final JpegDecoding jpegDecoding;

    /** Decodes JPEGs with libjpeg-turbo where it is installed, else with ImageIO. */
    public ImageDecoder(ImageLimits limits) {
        this(limits, JpegDecoding.automatic());
    }

    /** @throws IllegalStateException for {@link JpegDecoding#LIBJPEG_TURBO} where the library cannot be loaded */
    public ImageDecoder(ImageLimits limits, JpegDecoding jpegDecoding) {
        this.limits = limits;
        this.jpegDecoding = jpegDecoding.requireAvailable();
    }

    public JpegDecoding jpegDecoding() {
        return jpegDecoding;
    }

    public BufferedImage decode(byte[] encoded) throws ImageRejectedException {
        return decode(encoded, 0);
    }

    /**
     * Decodes at a reduced resolution that keeps the shorter side at least 2 × {@code neededShorter}: libjpeg-turbo
     * scales JPEGs by n/8 in the DCT domain; ImageIO reads every k-th pixel once the shorter side is at least
     * 4 × {@code neededShorter}. 0 decodes at full resolution.
     */
    public BufferedImage decode(byte[] encoded, int neededShorter) throws ImageRejectedException {
        checkEncodedSize(encoded);
        if (jpegDecoding == JpegDecoding.LIBJPEG_TURBO && TurboJpegDecoder.isJpeg(encoded)) {
            RgbPixels pixels = withLibjpegTurbo(encoded, neededShorter, false);
            if (pixels != null) {
                return TurboJpegDecoder.image(pixels);
            }
        }
        return decodeWithImageIO(encoded, neededShorter, new int[2]);
    }

    /**
     * As {@link #decode(byte[], int)}, for the preprocessor: an upright JPEG's pixels may stay in this thread's
     * decode buffer, valid until the thread's next call, so the hot path allocates nothing per image.
     */
    RgbPixels decodePixels(byte[] encoded, int neededShorter) throws ImageRejectedException {
        checkEncodedSize(encoded);
        if (jpegDecoding == JpegDecoding.LIBJPEG_TURBO && TurboJpegDecoder.isJpeg(encoded)) {
            RgbPixels pixels = withLibjpegTurbo(encoded, neededShorter, true);
            if (pixels != null) {
                return pixels;
            }
        }
        int[] sourceSize = new int[2];
        BufferedImage image = decodeWithImageIO(encoded, neededShorter, sourceSize);
        return RgbPixels.of(image).fromSource(sourceSize[0], sourceSize[1]);
    }

    /** Upright pixels, or null for ImageIO to decode; only an upright image may use the thread's buffer. */
    private RgbPixels withLibjpegTurbo(byte[] jpeg, int neededShorter, boolean mayReuse)
            throws ImageRejectedException {
        try {
            int orientation = ExifOrientation.ofJpeg(jpeg);
            boolean upright = orientation == ExifOrientation.NORMAL;
            RgbPixels pixels = TurboJpegDecoder.decode(jpeg, limits, neededShorter, mayReuse && upright);
            if (pixels == null || upright) {
                return pixels;
            }
            // Orientations 5 to 8 turn the image a quarter: its upright source is the other way round.
            boolean quarter = orientation >= 5 && orientation <= 8;
            return RgbPixels.of(ExifOrientation.apply(TurboJpegDecoder.image(pixels), orientation)).fromSource(
                    quarter ? pixels.sourceHeight() : pixels.sourceWidth(),
                    quarter ? pixels.sourceWidth() : pixels.sourceHeight());
        } catch (RuntimeException e) {
            // As on the ImageIO path: an unexpected failure is this image's, never the stream thread's.
            throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE,
                    "cannot decode image: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private void checkEncodedSize(byte[] encoded) throws ImageRejectedException {
        if (encoded == null || encoded.length == 0) {
            throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE, "image is empty (0 bytes)");
        }
        if (encoded.length > limits.maxEncodedBytes()) {
            throw new ImageRejectedException(FailureReason.TOO_LARGE, "image is " + encoded.length
                    + " bytes; the limit (image.max.bytes) is " + limits.maxEncodedBytes());
        }
    }

    /** @param sourceSize receives the upright source image's width and height, whatever subsampling reduced */
    private BufferedImage decodeWithImageIO(byte[] encoded, int neededShorter, int[] sourceSize)
            throws ImageRejectedException {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(encoded))) {
            ImageReader reader = firstReader(in);
            try {
                reader.setInput(in, true, true);
                long width = reader.getWidth(0);
                long height = reader.getHeight(0);
                limits.checkPixels(width, height);
                WarningCollector warnings = new WarningCollector();
                reader.addIIOReadWarningListener(warnings);
                javax.imageio.ImageReadParam param = reader.getDefaultReadParam();
                int step = neededShorter > 0 ? (int) (Math.min(width, height) / (2L * neededShorter)) : 1;
                if (step >= 2) {
                    param.setSourceSubsampling(step, step, 0, 0);
                }
                BufferedImage image = reader.read(0, param);
                if (warnings.first != null) {
                    throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE,
                            reader.getFormatName() + " image is damaged: " + warnings.first);
                }
                int orientation = reader.getFormatName().equalsIgnoreCase("jpeg") ? ExifOrientation.ofJpeg(encoded)
                        : ExifOrientation.NORMAL;
                image = ExifOrientation.apply(image, orientation);
                boolean quarter = orientation >= 5 && orientation <= 8;
                sourceSize[0] = (int) (quarter ? height : width);
                sourceSize[1] = (int) (quarter ? width : height);
                return image;
            } finally {
                reader.dispose();
            }
        } catch (ImageRejectedException e) {
            throw e;
        } catch (IIOException e) {
            throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE, "cannot decode image: " + e.getMessage(), e);
        } catch (IOException | RuntimeException e) {
            // ImageIO plugins signal corrupt data with assorted runtime exceptions (array bounds, illegal state).
            throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE,
                    "cannot decode image: " + e.getClass().getSimpleName() + ": " + e.getMessage(), e);
        }
    }

    private static ImageReader firstReader(ImageInputStream in) throws ImageRejectedException {
        Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
        if (!readers.hasNext()) {
            throw new ImageRejectedException(FailureReason.UNSUPPORTED_FORMAT,
                    "bytes are not in an image format this build can read (supported: "
                            + String.join(", ", supportedFormats()) + ")");
        }
        return readers.next();
    }

    static java.util.SortedSet<String> supportedFormats() {
        java.util.SortedSet<String> names = new java.util.TreeSet<>();
        for (String n : ImageIO.getReaderFormatNames()) {
            names.add(n.toLowerCase(java.util.Locale.ROOT));
        }
        return names;
    }

    /**
     * Keeps the first warning that means lost pixels (truncation, corrupt entropy data). Colour-management
     * notices, such as a CMYK JPEG without an ICC profile, leave every pixel decoded and are not damage.
     */
    private static final class WarningCollector implements IIOReadWarningListener {
        String first;

        @Override
        public void warningOccurred(ImageReader source, String warning) {
            String w = warning == null ? "" : warning.toLowerCase(java.util.Locale.ROOT);
            boolean colourNotice = w.contains("icc") || w.contains("color profile") || w.contains("colors may look");
            if (first == null && !colourNotice) {
                first = warning;
            }
        }
    }
}
