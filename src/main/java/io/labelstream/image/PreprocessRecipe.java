package io.labelstream.image;

import java.util.Arrays;

/**
 * How an image becomes the model's input tensor, in torchvision's terms: {@code Resize(resizeShorter)} (PIL
 * antialiased bilinear), {@code CenterCrop(cropHeight, cropWidth)}, {@code ToTensor()} (RGB, 0–1),
 * {@code Normalize(mean, std)}, NCHW float32.
 */
public record PreprocessRecipe(String name, int resizeShorter, int cropHeight, int cropWidth, float[] mean,
                               float[] std) {

    /** torchvision's ImageNet evaluation transform, used by the ONNX Model Zoo ResNets. */
    public static final PreprocessRecipe IMAGENET = new PreprocessRecipe("imagenet", 256, 224, 224,
            new float[] {0.485f, 0.456f, 0.406f}, new float[] {0.229f, 0.224f, 0.225f});

    public PreprocessRecipe {
        if (resizeShorter < Math.min(cropHeight, cropWidth) || cropHeight <= 0 || cropWidth <= 0) {
            throw new IllegalArgumentException("recipe " + name + ": crop " + cropWidth + "×" + cropHeight
                    + " must be positive and fit in the resized shorter side " + resizeShorter);
        }
        if (mean.length != 3 || std.length != 3) {
            throw new IllegalArgumentException("recipe " + name + ": mean and std need 3 values (R, G, B)");
        }
        for (float s : std) {
            if (!(s > 0f)) {
                throw new IllegalArgumentException("recipe " + name + ": std values must be > 0");
            }
        }
        mean = mean.clone();
        std = std.clone();
    }

    @Override
    public float[] mean() {
        return mean.clone();
    }

    @Override
    public float[] std() {
        return std.clone();
    }

    public int valuesPerImage() {
        return 3 * cropHeight * cropWidth;
    }

    @Override
    public String toString() {
        return name + "(resize " + resizeShorter + ", crop " + cropWidth + "×" + cropHeight + ", mean "
                + Arrays.toString(mean) + ", std " + Arrays.toString(std) + ")";
    }
}
