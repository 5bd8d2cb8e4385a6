package io.labelstream.image;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;

/**
 * The few functions of libjpeg-turbo's TurboJPEG 2 API that decoding needs, bound to the system's
 * {@code libturbojpeg} (Debian/Ubuntu package {@code libturbojpeg0} / {@code libturbojpeg}) with JNA's direct
 * mapping, its cheapest call path. It is the JPEG library Pillow uses, and about twice as fast as the JDK's own;
 * when the library is not installed, {@link #unavailableReason()} says why and ImageIO decodes instead.
 *
 * <p>A handle is not thread-safe; callers create one per decode (about a microsecond) and destroy it after.
 */
final class TurboJpeg {

    static final int PIXEL_RGB = 0;
    static final int PIXEL_GRAY = 6;

    static final int COLORSPACE_RGB = 0;
    static final int COLORSPACE_YCBCR = 1;
    static final int COLORSPACE_GRAY = 2;

    /** Stop at the first warning (e.g. a truncated file), instead of returning an image half filled with grey. */
    static final int FLAG_STOP_ON_WARNING = 8192;
    /** Refuse progressive files with more than 500 scans, which can otherwise take minutes to decode. */
    static final int FLAG_LIMIT_SCANS = 32768;

    static final int ERROR_WARNING = 0;

    private static final String UNAVAILABLE;
    private static final String LOCATION;

    static {
        String unavailable = null;
        String location = null;
        try {
            NativeLibrary library = NativeLibrary.getInstance("turbojpeg");
            Native.register(TurboJpeg.class, library);
            location = library.getFile() == null ? library.getName() : library.getFile().toString();
        } catch (LinkageError | RuntimeException e) {
            unavailable = "libturbojpeg could not be loaded (" + String.valueOf(e.getMessage()).lines().findFirst()
                    .orElse("").replaceAll(":\\s*$", "") + ")";
        }
        UNAVAILABLE = unavailable;
        LOCATION = location;
    }

    private TurboJpeg() {
    }

    /** Null when the library is loaded, else why not. */
    static String unavailableReason() {
        return UNAVAILABLE;
    }

    /** The loaded library's file, or null. */
    static String location() {
        return LOCATION;
    }

    static native Pointer tjInitDecompress();

    static native int tjDestroy(Pointer handle);

    static native int tjDecompressHeader3(Pointer handle, byte[] jpeg, NativeLong jpegSize, int[] width, int[] height,
                                          int[] subsampling, int[] colorspace);

    static native int tjDecompress2(Pointer handle, byte[] jpeg, NativeLong jpegSize, Pointer destination, int width,
                                    int pitch, int height, int pixelFormat, int flags);

    static native int tjGetErrorCode(Pointer handle);

    static native String tjGetErrorStr2(Pointer handle);

    /** An array of {@code count[0]} (numerator, denominator) int pairs owned by the library. */
    static native Pointer tjGetScalingFactors(int[] count);
}
