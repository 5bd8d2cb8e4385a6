package io.labelstream.model;

import java.util.List;

/**
 * The ONNX custom metadata keys labelstream writes into the models it makes and reads back when it serves them.
 * The tools that write them ({@code model adapt}, {@code model quantize}) live in sub-packages that build on this
 * one; the keys live here so that serving a model never depends on the tools that made it.
 *
 * <p>Each tool writes a one-line summary under its own key and the details under that key followed by a dot and
 * a name, e.g. {@code labelstream.quantization.calibration_sha256}.
 */
public final class ModelMetadata {

    /**
     * {@code model adapt}'s summary of the head it trained, e.g. {@code adapt-10cls-50img-9c1e4f20}; details under
     * {@code labelstream.adapt.*} (source_sha256, training_sha256, training_images, features, head, recipe).
     */
    public static final String ADAPT = "labelstream.adapt";

    /**
     * {@code model quantize}'s summary of the quantization, e.g. {@code int8-minmax-50img-3fa2b1c4}; details under
     * {@code labelstream.quantization.*} (format, weight_range, method, calibration_images, calibration_sha256,
     * source_sha256, excluded).
     */
    public static final String QUANTIZATION = "labelstream.quantization";

    /**
     * How many of int8's levels the quantized weights use: {@link #FULL_WEIGHT_RANGE} or {@code portable}. A model
     * with full-range weights labels wrongly on CPUs whose int8 kernels saturate ({@link Int8Kernels}).
     */
    public static final String QUANTIZATION_WEIGHT_RANGE = QUANTIZATION + ".weight_range";

    /** The value of {@link #QUANTIZATION_WEIGHT_RANGE} for weights that use every int8 level (|q| up to 127). */
    public static final String FULL_WEIGHT_RANGE = "full";

    /**
     * The summaries that follow a model's own version, in this order, in the version output records name: a head
     * is adapted before the model is quantized.
     */
    static final List<String> VERSION_SUMMARIES = List.of(ADAPT, QUANTIZATION);

    private ModelMetadata() {
    }
}
