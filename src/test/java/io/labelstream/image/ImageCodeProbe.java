package io.labelstream.image;

/** A method in the image package, which the shipped compiler options leave with the JVM's own thresholds. */
public final class ImageCodeProbe {

    public static int lukewarm(int i) {
        return i % 3 == 0 ? i * 7 : i + 11;
    }

    private ImageCodeProbe() {
    }
}
