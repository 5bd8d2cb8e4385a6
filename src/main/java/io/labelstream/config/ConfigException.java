package io.labelstream.config;

/** A setting with a value labelstream cannot start with. The message names the setting and what is allowed. */
public final class ConfigException extends RuntimeException {

    public ConfigException(String message) {
        super(message);
    }

    public static ConfigException invalid(String key, String value, String allowed) {
        return new ConfigException("Invalid setting " + key + "=" + (value == null ? "<unset>" : "'" + value + "'")
                + ": " + allowed);
    }
}
