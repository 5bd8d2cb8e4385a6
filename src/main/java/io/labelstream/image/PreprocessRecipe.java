package io.labelstream.image;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Locale;

/**
 * How an image becomes model input, in torchvision's terms. With {@link ResizeMode#SHORTER_SIDE}:
 * {@code Resize(resizeSize)} (Pillow's antialiased bilinear) then {@code CenterCrop(cropHeight, cropWidth)};
 * with {@link ResizeMode#EXACT}: {@code Resize((cropHeight, cropWidth))} and no crop. Then the 8-bit values
 * are scaled ({@code ToTensor()}'s 0–1, or kept 0–255), put in {@code channelOrder} and normalized with
 * {@code mean} and {@code std}, which are given per channel in the model's channel order.
 *
 * <p>With {@code reducedDecode}, an image much larger than needed is decoded at a reduced resolution that keeps
 * at least twice the needed size before the antialiased resize (libjpeg-turbo scales JPEGs by n/8 in the DCT
 * domain; ImageIO reads every k-th pixel): a 12 MP photo then decodes several times faster. Such images differ
 * slightly from Pillow's full-resolution result; images smaller than that are untouched and match Pillow exactly.
 *
 * <p>{@link #hash(JpegDecoding)} identifies the recipe, as applied with a JPEG decoder, in output records: the
 * same hash means the same tensor from the same image.
 */
public record PreprocessRecipe(String name, ResizeMode resizeMode, int resizeSize, int cropWidth, int cropHeight,
                               PixelScale scale, float[] mean, float[] std, ChannelOrder channelOrder,
                               boolean reducedDecode) {

    /** Bumped whenever the preprocessing code changes what a given recipe produces. */
    public static final int VERSION = 1;

    public enum ResizeMode { SHORTER_SIDE, EXACT }

    public enum PixelScale { UNIT, BYTE }

    public enum ChannelOrder { RGB, BGR }

    /** torchvision's ImageNet evaluation transform, used by the ONNX Model Zoo classifiers. */
    public static final PreprocessRecipe IMAGENET = new PreprocessRecipe("imagenet", ResizeMode.SHORTER_SIDE, 256,
            224, 224, PixelScale.UNIT, new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f},
            ChannelOrder.RGB, true);

    /** The usual CIFAR-10 evaluation transform: 32×32, per-channel CIFAR-10 statistics. */
    public static final PreprocessRecipe CIFAR10 = new PreprocessRecipe("cifar10", ResizeMode.EXACT, 32, 32, 32,
            PixelScale.UNIT, new float[] {0.4914f, 0.4822f, 0.4465f}, new float[] {0.2023f, 0.1994f, 0.2010f},
            ChannelOrder.RGB, true);

    public PreprocessRecipe {
        if (cropHeight <= 0 || cropWidth <= 0 || resizeSize <= 0) {
            throw new IllegalArgumentException("sizes must be positive");
        }
        if (resizeMode == ResizeMode.SHORTER_SIDE && resizeSize < Math.max(cropHeight, cropWidth)) {
            throw new IllegalArgumentException("crop " + cropWidth + "x" + cropHeight
                    + " does not fit in the resized shorter side " + resizeSize);
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("mean and std need 3 values each");
        }
        for (float s : std) {
            if (!(s > 0f)) {
                throw new IllegalArgumentException("std values must be > 0");
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    public static PreprocessRecipe preset(String name) {
        return switch (name.trim().toLowerCase(Locale.ROOT)) {
            case "imagenet" -> IMAGENET;
            case "cifar10" -> CIFAR10;
            default -> throw new IllegalArgumentException("unknown preset '" + name + "'; allowed: imagenet, cifar10");
        };
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    /** Where the resize puts a source image and where the crop lies in it, in resized pixels. */
    public record Geometry(int resizedWidth, int resizedHeight, int left, int top) {
    }

    /** How this recipe resizes and crops an image of {@code width × height}. */
    public Geometry geometry(int width, int height) {
        int resizedW;
        int resizedH;
        if (resizeMode == ResizeMode.EXACT) {
            resizedW = cropWidth;
            resizedH = cropHeight;
        } else if (width <= height) {
            // torchvision Resize(int): the shorter side becomes resizeSize, the longer keeps the aspect (truncated).
            resizedW = resizeSize;
            resizedH = (int) ((double) resizeSize * height / width);
        } else {
            resizedH = resizeSize;
            resizedW = (int) ((double) resizeSize * width / height);
        }
        // torchvision CenterCrop uses Python's round(), which rounds halves to even, as Math.rint does.
        return new Geometry(resizedW, resizedH, (int) Math.rint((resizedW - cropWidth) / 2.0),
                (int) Math.rint((resizedH - cropHeight) / 2.0));
    }

    /**
     * The part of a {@code width × height} image that the model sees, in that image's pixel coordinates: the crop
     * mapped back through the resize, which scales each axis by source size over resized size.
     */
    public SourceRegion region(int width, int height) {
        return region(width, height, width, height);
    }

    /**
     * As {@link #region(int, int)}, for an image decoded at {@code width × height} from a larger source of
     * {@code sourceWidth × sourceHeight} (a reduced decode): the crop is where it lies on the decoded pixels, in the
     * source's coordinates.
     */
    public SourceRegion region(int width, int height, int sourceWidth, int sourceHeight) {
        Geometry g = geometry(width, height);
        float sx = (float) sourceWidth / g.resizedWidth();
        float sy = (float) sourceHeight / g.resizedHeight();
        return new SourceRegion(g.left() * sx, g.top() * sy, cropWidth * sx, cropHeight * sy);
    }

    /** The smallest shorter side a decoded image needs before resizing (reduced decoding keeps twice this). */
    public int neededShorterSide() {
        return resizeMode == ResizeMode.SHORTER_SIDE ? resizeSize : Math.max(cropWidth, cropHeight);
    }

    public int valuesPerImage() {
        return 3 * cropHeight * cropWidth;
    }

    /** The canonical text of everything that affects the tensor, which {@link #hash()} digests. */
    public String canonical() {
        return "v" + VERSION + ";resize=" + (resizeMode == ResizeMode.SHORTER_SIDE ? "shorter:" + resizeSize : "exact")
                + ";crop=" + cropWidth + "x" + cropHeight + ";scale=" + scale.name().toLowerCase(Locale.ROOT)
                + ";mean=" + join(mean) + ";std=" + join(std) + ";order=" + channelOrder.name().toLowerCase(Locale.ROOT)
                + ";filter=pillow-bilinear-aa" + (reducedDecode ? ";decode=reduced" : "");
    }

    /**
     * First 16 hex digits of the SHA-256 of {@link #canonical()} and the JPEG decoder, which is part of what
     * makes the tensor: the two scale large images differently when decoding reduced.
     */
    public String hash(JpegDecoding jpegDecoding) {
        String text = canonical() + ";jpeg=" + jpegDecoding.settingValue();
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest, 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static String join(float[] values) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < values.length; i++) {
            b.append(i == 0 ? "" : ",").append(values[i]);
        }
        return b.toString();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof PreprocessRecipe r && r.name.equals(name) && r.canonical().equals(canonical());
    }

    @Override
    public int hashCode() {
        return canonical().hashCode();
    }

    @Override
    public String toString() {
        return name + " [" + canonical() + "]";
    }
}
