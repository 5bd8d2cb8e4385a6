package io.labelstream.model;

/**
 * Which model labeled an image, as written into every output record, logged and exported as a metric.
 *
 * @param version the model's own {@code model_version} metadata, or null when the file has none
 * @param sha256  lower-case hex SHA-256 of the model file
 */
public record ModelId(String name, String version, String sha256) {

    /** How logs and metrics show a model without a version; output records use their schema's default. */
    public static final String UNKNOWN_VERSION = "unknown";

    public String versionOrUnknown() {
        return version == null ? UNKNOWN_VERSION : version;
    }
}
