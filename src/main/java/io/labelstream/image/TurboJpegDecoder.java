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
     * Decoded images up to this size (5 MP RGB; with reduced decoding, the default, nearly every photo) reuse
     * per-thread buffers, a native one and an array: fresh multi-megabyte memory per image costs more in page
     * faults and zeroing than the decode itself. At most 2 × 16 MB stays with each decoding thread.
     */
    private static final int THREAD_BUFFER_BYTES = 16 * 1024 * 1024;

    /**
     * Larger decodes (full-resolution photos) share one native buffer per process, kept if it is at most this
     * size (21 MP RGB): a 12 MP photo decodes in 62 ms with it and 215 ms with fresh memory each time, measured
     * here. Their pixel array is a fresh heap array, which the garbage collector recycles cheaply.
     */
    private static final long SHARED_BUFFER_BYTES = 64L * 1024 * 1024;

    private static final java.util.concurrent.atomic.AtomicReference<Memory> SHARED =
            new java.util.concurrent.atomic.AtomicReference<>();

    /**
     * The library's scales 1/2, 1/4 and 1/8, as {numerator, denominator}, smallest first. The others (3/8 … 7/8)
     * would reduce images barely larger than needed, which then no longer match Pillow, and have no SIMD code.
     */
    private static final List<int[]> SCALES = scales();

    private static final ThreadLocal<ThreadBuffers> BUFFERS = ThreadLocal.withInitial(ThreadBuffers::new);

    private TurboJpegDecoder() {
    }

    static boolean isJpeg(byte[] encoded) {
        return encoded.length >= 3 && (encoded[0] & 0xFF) == 0xFF && (encoded[1] & 0xFF) == 0xD8
                && (encoded[2] & 0xFF) == 0xFF;
    }

    /**
     * The decoded pixels (RGB, or grey), or null when ImageIO should decode this file instead: CMYK/YCCK colour,
     * or a header libjpeg-turbo refuses (e.g. 12-bit or lossless JPEG; ImageIO then decodes it or gives its own
     * reason). A warning, in the header or the data, rejects the image as damaged.
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
                if (TurboJpeg.tjGetErrorCode(handle) == TurboJpeg.ERROR_WARNING) {
                    throw damaged(handle);
                }
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
            boolean small = bytes <= THREAD_BUFFER_BYTES;
            Memory buffer = small ? BUFFERS.get().decoded(bytes) : takeShared(bytes);
            try {
                int flags = TurboJpeg.FLAG_STOP_ON_WARNING | TurboJpeg.FLAG_LIMIT_SCANS;
                if (TurboJpeg.tjDecompress2(handle, jpeg, size, buffer, w, 0, h,
                        grey ? TurboJpeg.PIXEL_GRAY : TurboJpeg.PIXEL_RGB, flags) != 0) {
                    if (TurboJpeg.tjGetErrorCode(handle) == TurboJpeg.ERROR_WARNING) {
                        throw damaged(handle);
                    }
                    // Fatal once the header was accepted: corrupt data, or a progressive file with more than
                    // 500 scans. ImageIO would only fail again, or spend minutes on those scans.
                    throw new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE,
                            "cannot decode JPEG image: " + TurboJpeg.tjGetErrorStr2(handle));
                }
                byte[] pixels = reuse && small ? BUFFERS.get().pixels(bytes) : new byte[bytes];
                buffer.read(0, pixels, 0, bytes);
                return (grey ? new RgbPixels(pixels, w, h, 1, w, 0, 0, 0)
                        : new RgbPixels(pixels, w, h, 3, w * 3, 0, 1, 2)).fromSource(width[0], height[0]);
            } finally {
                if (!small) {
                    returnShared(buffer);
                }
            }
        } finally {
            TurboJpeg.tjDestroy(handle);
        }
    }

    private static ImageRejectedException damaged(Pointer handle) {
        return new ImageRejectedException(FailureReason.UNDECODABLE_IMAGE,
                "JPEG image is damaged: " + TurboJpeg.tjGetErrorStr2(handle));
    }

    /** The process's shared large buffer if it is free and big enough, else a new one. */
    private static Memory takeShared(int bytes) {
        Memory spare = SHARED.getAndSet(null);
        if (spare != null && spare.size() >= bytes) {
            return spare;
        }
        if (spare != null) {
            spare.close();
        }
        return new Memory(bytes);
    }

    /** Keeps the buffer as the shared one unless it is too large to keep or another thread returned one first. */
    private static void returnShared(Memory buffer) {
        if (buffer.size() > SHARED_BUFFER_BYTES || !SHARED.compareAndSet(null, buffer)) {
            buffer.close();
        }
    }

    /** A BufferedImage over interleaved 8-bit RGB or grey pixels, such as this class decodes (no copy). */
    static BufferedImage image(RgbPixels pixels) {
        boolean grey = pixels.pixelStride() == 1;
        ColorSpace space = ColorSpace.getInstance(grey ? ColorSpace.CS_GRAY : ColorSpace.CS_sRGB);
        ComponentColorModel model = new ComponentColorModel(space, false, false, Transparency.OPAQUE,
                DataBuffer.TYPE_BYTE);
        int bands = pixels.pixelStride();
        WritableRaster raster = Raster.createInterleavedRaster(new DataBufferByte(pixels.data(),
                        pixels.rowStride() * pixels.height()), pixels.width(), pixels.height(), pixels.rowStride(),
                bands, grey ? new int[] {pixels.red()} : new int[] {pixels.red(), pixels.green(), pixels.blue()},
                null);
        return new BufferedImage(model, raster, false, null);
    }

    /**
     * The smallest of {@code scales} that keeps the shorter side at least twice {@code neededShorter} (so the
     * antialiased resize after it still has real detail to average), or 1/1 when none does or
     * {@code neededShorter} is 0. With 1/2 the largest, only images at least 4 × the needed size are reduced.
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

    /** One decoding thread's buffers; they only grow (1 MB at least), so the steady state allocates nothing. */
    private static final class ThreadBuffers {
        private Memory decoded;
        private byte[] pixels = new byte[0];

        Memory decoded(int bytes) {
            if (decoded == null || decoded.size() < bytes) {
                if (decoded != null) {
                    decoded.close();
                }
                decoded = new Memory(Math.max(bytes, 1 << 20));
            }
            return decoded;
        }

        byte[] pixels(int bytes) {
            if (pixels.length < bytes) {
                pixels = new byte[Math.max(bytes, 1 << 20)];
            }
            return pixels;
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
                    if (pairs[2 * i] == 1 && pairs[2 * i + 1] >= 2) {
                        scales.add(new int[] {pairs[2 * i], pairs[2 * i + 1]});
                    }
                }
            }
        }
        scales.sort(Comparator.comparingDouble(s -> (double) s[0] / s[1]));
        return List.copyOf(scales);
    }
}
