package io.labelstream.image;

import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import io.labelstream.schema.FailureReason;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.DataBufferByte;
import java.awt.image.Raster;
import java.awt.image.WritableRaster;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Decodes YCbCr, RGB and grey JPEGs with libjpeg-turbo, optionally at a reduced scale chosen in the DCT domain.
 * The size limit is checked from the header before any pixel memory is allocated; a warning (truncated or
 * corrupt data) rejects the image, as it does on the ImageIO path.
 */
final class TurboJpegDecoder {

    /**
     * Decoded images up to this size (21 MP at full scale) reuse per-thread buffers, a native one and an array:
     * fresh multi-megabyte memory per image costs more in page faults and zeroing than the decode itself (a
     * 12 MP photo at full scale: 62 ms reused, 215 ms fresh, measured here). Larger images get their own,
     * released after the call, so a rare huge one does not pin its memory. With reduced decoding (the default)
     * a thread's buffers stay a few MB, as the largest decode is then about 1000 × 750.
     */
    private static final int REUSED_BUFFER_BYTES = 64 * 1024 * 1024;

    /** The library's scale factors no larger than 1, as {numerator, denominator}, smallest first. */
    private static final List<int[]> SCALES = scales();

    private static final ThreadLocal<Reused<Memory>> NATIVE =
            ThreadLocal.withInitial(() -> new Reused<>(Memory::new, Memory::size));
    private static final ThreadLocal<Reused<byte[]>> PIXELS =
            ThreadLocal.withInitial(() -> new Reused<>(byte[]::new, array -> array.length));

    private TurboJpegDecoder() {
    }

    static boolean isJpeg(byte[] encoded) {
        return encoded.length >= 3 && (encoded[0] & 0xFF) == 0xFF && (encoded[1] & 0xFF) == 0xD8
                && (encoded[2] & 0xFF) == 0xFF;
    }

    /**
     * The decoded pixels (RGB, or grey), or null when ImageIO should decode this file instead: CMYK/YCCK colour,
     * a header or a fatal error libjpeg-turbo reports (ImageIO then either decodes it or gives its own reason).
     * With {@code reuse}, the pixels live in this thread's array until its next decode.
     */
    static RgbPixels decode(byte[] jpeg, ImageLimits limits, int neededShorter, boolean reuse)
            throws ImageRejectedException {
        Pointer handle = TurboJpeg.tjInitDecompress();
        if (handle == null) {
            return null;
        }
        try {
            NativeLong size = new NativeLong(jpeg.length);
            int[] width = new int[1];
            int[] height = new int[1];
            int[] colorspace = new int[1];
            if (TurboJpeg.tjDecompressHeader3(handle, jpeg, size, width, height, new int[1], colorspace) != 0) {
                return null;
            }
            limits.checkPixels(width[0], height[0]);
            boolean grey = colorspace[0] == TurboJpeg.COLORSPACE_GRAY;
            if (!grey && colorspace[0] != TurboJpeg.COLORSPACE_YCBCR && colorspace[0] != TurboJpeg.COLORSPACE_RGB) {
                return null;
            }
            int[] scale = scaleFor(width[0], height[0], neededShorter, SCALES);
            int w = scaled(width[0], scale);
            int h = scaled(height[0], scale);
            int channels = grey ? 1 : 3;
            long needed = (long) w * h * channels;
            if (needed > Integer.MAX_VALUE - 8) {
                throw new ImageRejectedException(FailureReason.TOO_LARGE, "image is " + width[0] + "×" + height[0]
                        + ": decoded, it would need " + needed + " bytes, more than one array can hold");
            }
            int bytes = (int) needed;
            boolean keep = bytes <= REUSED_BUFFER_BYTES;
            Memory buffer = keep ? NATIVE.get().atLeast(bytes) : new Memory(bytes);
            try {
                int flags = TurboJpeg.FLAG_STOP_ON_WARNING | TurboJpeg.FLAG_LIMIT_SCANS;
                if (TurboJpeg.tjDecompress2(handle, jpeg, size, buffer, w, 0, h,
                        grey ? TurboJpeg.PIXEL_GRAY : TurboJpeg.PIXEL_RGB, flags) != 0) {
                    if (TurboJpeg.tjGetErrorCode(handle) == TurboJpeg.ERROR_WARNING) {
                        throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE,
                                "JPEG image is damaged: " + TurboJpeg.tjGetErrorStr2(handle));
                    }
                    return null;
                }
                byte[] pixels = reuse && keep ? PIXELS.get().atLeast(bytes) : new byte[bytes];
                buffer.read(0, pixels, 0, bytes);
                return grey ? new RgbPixels(pixels, w, h, 1, w, 0, 0, 0)
                        : new RgbPixels(pixels, w, h, 3, w * 3, 0, 1, 2);
            } finally {
                if (!keep) {
                    buffer.close();
                }
            }
        } finally {
            TurboJpeg.tjDestroy(handle);
        }
    }

    /** A BufferedImage over pixels this class decoded (no copy). */
    static BufferedImage image(RgbPixels pixels) {
        boolean grey = pixels.pixelStride() == 1;
        ColorSpace space = ColorSpace.getInstance(grey ? ColorSpace.CS_GRAY : ColorSpace.CS_sRGB);
        ComponentColorModel model = new ComponentColorModel(space, false, false, Transparency.OPAQUE,
                DataBuffer.TYPE_BYTE);
        int bands = pixels.pixelStride();
        WritableRaster raster = Raster.createInterleavedRaster(new DataBufferByte(pixels.data(),
                        pixels.rowStride() * pixels.height()), pixels.width(), pixels.height(), pixels.rowStride(),
                bands, grey ? new int[] {0} : new int[] {0, 1, 2}, null);
        return new BufferedImage(model, raster, false, null);
    }

    /**
     * The smallest scale that keeps the shorter side at least twice {@code neededShorter} (so the antialiased
     * resize after it still has real detail to average), or 1/1 when {@code neededShorter} is 0.
     */
    static int[] scaleFor(int width, int height, int neededShorter, List<int[]> scales) {
        int shorter = Math.min(width, height);
        if (neededShorter > 0) {
            for (int[] scale : scales) {
                if (scaled(shorter, scale) >= 2L * neededShorter) {
                    return scale;
                }
            }
        }
        return new int[] {1, 1};
    }

    /** libjpeg-turbo's TJSCALED: the scaled dimension, rounded up. */
    static int scaled(int dimension, int[] scale) {
        return (int) (((long) dimension * scale[0] + scale[1] - 1) / scale[1]);
    }

    /** A per-thread buffer that only grows: a fresh one per image would cost page faults or zeroing every time. */
    private static final class Reused<T> {
        private final java.util.function.IntFunction<T> allocate;
        private final java.util.function.ToLongFunction<T> capacity;
        private T current;

        Reused(java.util.function.IntFunction<T> allocate, java.util.function.ToLongFunction<T> capacity) {
            this.allocate = allocate;
            this.capacity = capacity;
        }

        T atLeast(int bytes) {
            if (current == null || capacity.applyAsLong(current) < bytes) {
                if (current instanceof Memory old) {
                    old.close();
                }
                current = allocate.apply(Math.max(bytes, 1 << 20));
            }
            return current;
        }
    }

    private static List<int[]> scales() {
        List<int[]> scales = new ArrayList<>();
        if (TurboJpeg.unavailableReason() == null) {
            int[] count = new int[1];
            Pointer factors = TurboJpeg.tjGetScalingFactors(count);
            if (factors != null) {
                int[] pairs = factors.getIntArray(0, 2 * count[0]);
                for (int i = 0; i < count[0]; i++) {
                    if (pairs[2 * i] <= pairs[2 * i + 1]) {
                        scales.add(new int[] {pairs[2 * i], pairs[2 * i + 1]});
                    }
                }
            }
        }
        scales.sort(Comparator.comparingDouble(s -> (double) s[0] / s[1]));
        return List.copyOf(scales);
    }
}
