package io.labelstream.image;

/**
 * Which library decodes JPEGs. libjpeg-turbo is the one Pillow (and so torchvision) uses, so its pixels match
 * the reference exactly, and it decodes about twice as fast as the JDK's ImageIO reader, or several times as
 * fast with {@link PreprocessRecipe#reducedDecode()}, where it scales in the DCT domain instead of decoding every
 * pixel. Files it does not handle (CMYK and YCCK, which need colour conversion, or a header it refuses) go to
 * ImageIO either way.
 */
public enum JpegDecoding {
    LIBJPEG_TURBO("libjpeg-turbo"),
    JDK("jdk");

    private final String settingValue;

    JpegDecoding(String settingValue) {
        this.settingValue = settingValue;
    }

    public String settingValue() {
        return settingValue;
    }

    /** libjpeg-turbo when the system library loads, else the JDK's reader. */
    public static JpegDecoding automatic() {
        return TurboJpeg.unavailableReason() == null ? LIBJPEG_TURBO : JDK;
    }

    /**
     * The decoding a setting value ({@code auto}, {@code libjpeg-turbo}, {@code jdk}) asks for.
     *
     * @throws IllegalStateException when {@code libjpeg-turbo} is asked for and cannot be loaded, saying why
     */
    public static JpegDecoding of(String value) {
        switch (value) {
            case "auto":
                return automatic();
            case "jdk":
                return JDK;
            case "libjpeg-turbo":
                if (TurboJpeg.unavailableReason() != null) {
                    throw new IllegalStateException(TurboJpeg.unavailableReason()
                            + "; install libturbojpeg0 (Debian) or libturbojpeg (Ubuntu)");
                }
                return LIBJPEG_TURBO;
            default:
                throw new IllegalArgumentException("unknown JPEG decoding '" + value + "'");
        }
    }

    /** A line for the start-up log: which decoder, and where it was loaded from or why it was not. */
    public String describe() {
        if (this == LIBJPEG_TURBO) {
            return "JPEG decoding: libjpeg-turbo (" + TurboJpeg.location() + ")";
        }
        String reason = TurboJpeg.unavailableReason();
        return "JPEG decoding: the JDK's ImageIO reader" + (reason == null ? ""
                : "; " + reason + ", install libturbojpeg0 (Debian) or libturbojpeg (Ubuntu) for about twice the speed");
    }
}
