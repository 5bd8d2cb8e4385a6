package io.labelstream.config;

import java.util.function.Function;

/**
 * One labelstream setting: its key, default, a one-line description for README and {@code --help}, and a
 * parser that turns the text into a value or explains what is allowed.
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

    static Function<String, String> topic() {
        return text -> topicList().apply(text).stream().reduce((a, b) -> {
            throw new IllegalArgumentException("must be a single topic name");
        }).orElseThrow();
    }
}
