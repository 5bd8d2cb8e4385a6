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

    private static final String INSTALL_HINT = "install libturbojpeg0 (Debian) or libturbojpeg (Ubuntu)";

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
        return switch (value) {
            case "auto" -> automatic();
            case "jdk" -> JDK;
            case "libjpeg-turbo" -> LIBJPEG_TURBO.requireAvailable();
            default -> throw new IllegalArgumentException("unknown JPEG decoding '" + value + "'");
        };
    }

    /**
     * This decoding, if it can run here.
     *
     * @throws IllegalStateException for {@link #LIBJPEG_TURBO} where the library cannot be loaded, saying why
     */
    JpegDecoding requireAvailable() {
        if (this == LIBJPEG_TURBO && TurboJpeg.unavailableReason() != null) {
            throw new IllegalStateException(TurboJpeg.unavailableReason() + "; " + INSTALL_HINT);
        }
        return this;
    }

    /** A line for the start-up log: which decoder, and where it was loaded from or why it was not. */
    public String describe() {
        if (this == LIBJPEG_TURBO) {
            return "JPEG decoding: libjpeg-turbo (" + TurboJpeg.location() + ")";
        }
        String reason = TurboJpeg.unavailableReason();
        return "JPEG decoding: the JDK's ImageIO reader" + (reason == null ? ""
                : "; " + reason + "; " + INSTALL_HINT + " for about twice the speed");
    }
}
