package io.labelstream.model.quantize;

import io.labelstream.model.ModelMetadata;

import java.util.Locale;

/**
 * How many of int8's levels a quantized weight may use. x86 CPUs without VNNI (AVX2, AVX-512 without VNNI)
 * multiply uint8 activations by int8 weights with VPMADDUBSW, which adds each pair of products into an int16 and
 * saturates above 32767: full-range weights (|q| up to 127, 2 × 255 × 127 = 64770) then give wrong sums
 * wherever large activations meet large weights. Weights in [−64, 64] (2 × 255 × 64 = 32640) cannot saturate, so a
 * model written with {@link #PORTABLE} computes the same on every CPU, at half the weights' resolution — the
 * choice ONNX Runtime's quantizer offers as {@code reduce_range} and NNCF and PyTorch's x86 backend make by
 * default.
 */
public enum WeightRange {
    PORTABLE("portable", 64),
    /** Written into the model's metadata as it is read back when serving ({@link ModelMetadata}). */
    FULL(ModelMetadata.FULL_WEIGHT_RANGE, 127);

    private final String id;
    /** The largest |q| a weight is encoded with; the scale maps a channel's largest |w| to it. */
    final int maxLevel;

    WeightRange(String id, int maxLevel) {
        this.id = id;
        this.maxLevel = maxLevel;
    }

    public String id() {
        return id;
    }

    public static WeightRange parse(String value) {
        for (WeightRange r : values()) {
            if (r.id.equals(value.toLowerCase(Locale.ROOT))) {
                return r;
            }
        }
        throw new IllegalArgumentException("--weight-range must be portable or full, got '" + value + "'");
    }
}
