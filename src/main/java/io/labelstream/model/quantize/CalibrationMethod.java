package io.labelstream.model.quantize;

import java.util.Locale;

/**
 * How a tensor's calibration values become the range its uint8 encoding covers, as ONNX Runtime's Python
 * calibrators define them: the observed minimum and maximum; a percentile of |x| (outliers beyond it saturate); or
 * the threshold whose quantized histogram is closest to the observed one in KL divergence (TensorRT's entropy
 * calibration).
 */
public enum CalibrationMethod {
    MINMAX, PERCENTILE, ENTROPY;

    public static CalibrationMethod parse(String text) {
        for (CalibrationMethod m : values()) {
            if (m.name().equalsIgnoreCase(text)) {
                return m;
            }
        }
        throw new IllegalArgumentException("unknown calibration method '" + text
                + "'; allowed: minmax, percentile, entropy");
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
