package io.labelstream.model;

/**
 * Which labels of a model carry a class activation map.
 *
 * @param top      how many of the best labels carry one (0: none)
 * @param forFlags whether a label a moderation rule fires on carries one, however low it ranks
 */
public record ExplainSettings(int top, boolean forFlags) {

    public static final ExplainSettings NONE = new ExplainSettings(0, false);

    public ExplainSettings {
        if (top < 0) {
            throw new IllegalArgumentException("explain.top must be at least 0, not " + top);
        }
    }

    /** Whether the model's session must put out its feature map: some label may need a map. */
    public boolean needsMaps() {
        return top > 0 || forFlags;
    }
}
