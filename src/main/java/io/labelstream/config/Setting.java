package io.labelstream.config;

import java.util.function.Function;

/**
 * One labelstream setting: its key, default, a one-line description for the settings table in
 * docs/configuration.md and {@code --help}, and a parser that turns the text into a value or explains what is allowed.
 */
public record Setting<T>(String key, String defaultValue, String description, Function<String, T> parser) {

    /** Parses {@code text}; on failure the message names this setting, the value and what is allowed. */
    public T parse(String text) {
        try {
            return parser.apply(text);
        } catch (IllegalArgumentException e) {
            throw ConfigException.invalid(key, text, e.getMessage());
        }
    }

    static Function<String, Integer> intRange(int min, int max) {
        return longRange(min, max).andThen(Math::toIntExact);
    }

    static Function<String, Long> longRange(long min, long max) {
        return text -> {
            try {
                long v = Long.parseLong(text.trim());
                if (v >= min && v <= max) {
                    return v;
                }
            } catch (NumberFormatException ignored) {
                // reported below with the allowed range
            }
            throw new IllegalArgumentException("must be an integer from " + min + " to " + max);
        };
    }

    /** An ISO-8601 duration above zero, e.g. PT8H or PT30M. */
    static Function<String, java.time.Duration> positiveDuration() {
        return text -> {
            try {
                java.time.Duration d = java.time.Duration.parse(text.trim());
                if (!d.isNegative() && !d.isZero()) {
                    return d;
                }
            } catch (java.time.format.DateTimeParseException ignored) {
                // reported below with what is allowed
            }
            throw new IllegalArgumentException("must be a positive ISO-8601 duration, e.g. PT8H or PT30M");
        };
    }

    static Function<String, String> nonBlank() {
        return text -> {
            if (text == null || text.isBlank()) {
                throw new IllegalArgumentException("must not be empty");
            }
            return text.trim();
        };
    }

    static Function<String, String> anyText() {
        return text -> text == null ? "" : text.trim();
    }

    static Function<String, String> oneOf(String... allowed) {
        return text -> {
            for (String a : allowed) {
                if (a.equalsIgnoreCase(text.trim())) {
                    return a;
                }
            }
            throw new IllegalArgumentException("must be one of " + String.join(", ", allowed));
        };
    }

    static Function<String, java.util.List<String>> topicList() {
        return text -> {
            java.util.List<String> topics = new java.util.ArrayList<>();
            for (String t : text.split(",")) {
                String name = t.trim();
                if (!name.isEmpty()) {
                    if (!name.matches("[a-zA-Z0-9._-]{1,249}")) {
                        throw new IllegalArgumentException("topic '" + name
                                + "' may only contain letters, digits, '.', '_' and '-' (at most 249)");
                    }
                    topics.add(name);
                }
            }
            if (topics.isEmpty()) {
                throw new IllegalArgumentException("must name at least one topic");
            }
            return java.util.List.copyOf(topics);
        };
    }

    /** Comma-separated names of side models: lower-case letters and digits, starting with a letter. */
    static Function<String, java.util.List<String>> modelNames() {
        return text -> {
            java.util.List<String> names = new java.util.ArrayList<>();
            for (String t : text.split(",")) {
                String name = t.trim();
                if (name.isEmpty()) {
                    continue;
                }
                if (!name.matches("[a-z][a-z0-9]{0,39}")) {
                    throw new IllegalArgumentException("model name '" + name + "' may only contain lower-case letters"
                            + " and digits, starting with a letter (it is part of setting names and metrics tags)");
                }
                if (names.contains(name)) {
                    throw new IllegalArgumentException("model name '" + name + "' is listed twice");
                }
                names.add(name);
            }
            return java.util.List.copyOf(names);
        };
    }

    /** This setting of side model {@code name}: its key's {@code NAME} replaced by the model's name. */
    public Setting<T> forModel(String name) {
        return new Setting<>(key.replace(Settings.SIDE_MODEL_PLACEHOLDER, name), defaultValue, description, parser);
    }

    static Function<String, String> topic() {
        return text -> topicList().apply(text).stream().reduce((a, b) -> {
            throw new IllegalArgumentException("must be a single topic name");
        }).orElseThrow();
    }

    /** Empty means "not set"; anything else must pass {@code inner}. */
    static Function<String, String> optional(Function<String, String> inner) {
        return text -> text == null || text.isBlank() ? "" : inner.apply(text.trim());
    }

    static Function<String, String> pattern(String regex, String allowed) {
        return text -> {
            if (!text.trim().matches(regex)) {
                throw new IllegalArgumentException("must be " + allowed);
            }
            return text.trim();
        };
    }

    static Function<String, String> floats(int count, boolean positive) {
        return text -> {
            String[] parts = text.split(",");
            if (parts.length == count) {
                try {
                    for (String part : parts) {
                        float v = Float.parseFloat(part.trim());
                        if (!Float.isFinite(v) || (positive && v <= 0f)) {
                            throw new NumberFormatException();
                        }
                    }
                    return text.trim();
                } catch (NumberFormatException ignored) {
                    // reported below
                }
            }
            throw new IllegalArgumentException("must be " + count + " comma-separated " + (positive ? "positive " : "")
                    + "numbers, e.g. 0.485,0.456,0.406");
        };
    }

    /** Parses a value that {@link #floats} accepted. */
    public static float[] parseFloats(String text) {
        String[] parts = text.split(",");
        float[] values = new float[parts.length];
        for (int i = 0; i < parts.length; i++) {
            values[i] = Float.parseFloat(parts[i].trim());
        }
        return values;
    }

    static Function<String, String> regex() {
        return text -> {
            try {
                java.util.regex.Pattern.compile(text.trim());
                return text.trim();
            } catch (java.util.regex.PatternSyntaxException e) {
                throw new IllegalArgumentException("must be a Java regular expression: " + e.getDescription());
            }
        };
    }
}
