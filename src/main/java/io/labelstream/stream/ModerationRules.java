package io.labelstream.stream;

import io.labelstream.model.LabelSet;
import io.labelstream.schema.ModerationFlag;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Content-moderation rules: each names a set of classes (by label or by index) of a model and a probability
 * threshold, and fires on an image whose probability for any of those classes reaches it. Written
 * {@code name:label=a|b|c>=0.8; name2:index=413,763>=0.5}; a rule on a side model names it first,
 * {@code nsfw:model=moderation,label=porn|hentai>=0.8}. Shadow models never flag. Label names are resolved to indices at start-up,
 * so a rule naming a label the model does not have is a configuration error, not a rule that never fires.
 */
public final class ModerationRules {

    /** @param model the side model it reads, or {@link #PRIMARY} */
    private record Rule(String name, String model, int[] classes, float threshold, LabelSet labels) {
    }

    /** The model a rule without {@code model=} reads. */
    static final String PRIMARY = "";

    private final String text;
    private final List<Rule> rules;
    private final LabelSet labels;
    private final Map<String, LabelSet> sideLabels;
    private final Set<String> shadows;

    private ModerationRules(String text, List<Rule> rules, LabelSet labels, Map<String, LabelSet> sideLabels,
                            Set<String> shadows) {
        this.text = text;
        this.rules = List.copyOf(rules);
        this.labels = labels;
        this.sideLabels = Map.copyOf(sideLabels);
        this.shadows = Set.copyOf(shadows);
    }

    public static ModerationRules none() {
        return new ModerationRules("", List.of(), LabelSet.of(List.of()), Map.of(), Set.of());
    }

    /**
     * The same rules for a model with other labels (a replacement): names are resolved again, and an
     * {@link IllegalArgumentException} says which rule names a label that model does not have.
     */
    public ModerationRules forLabels(LabelSet otherLabels) {
        return parse(text, otherLabels, sideLabels, shadows);
    }

    /** The same rules for a primary and side models with these labels (one of them replaced). */
    public ModerationRules forModels(LabelSet primaryLabels, Map<String, LabelSet> otherSideLabels) {
        if (primaryLabels == labels && otherSideLabels.equals(sideLabels)) {
            return this;
        }
        return parse(text, primaryLabels, otherSideLabels, shadows);
    }

    /** Parses {@code text} for a primary model alone. */
    public static ModerationRules parse(String text, LabelSet labels) {
        return parse(text, labels, Map.of(), Set.of());
    }

    /**
     * Parses {@code text}; an {@link IllegalArgumentException} says what is wrong with which rule.
     *
     * @param sideLabels each side model's labels, by name
     * @param shadows    the side models that are shadows: a rule may not name them
     */
    public static ModerationRules parse(String text, LabelSet labels, Map<String, LabelSet> sideLabels,
                                        Set<String> shadows) {
        List<Rule> rules = new ArrayList<>();
        Set<String> names = new LinkedHashSet<>();
        for (String raw : text.split(";")) {
            String spec = raw.strip();
            if (spec.isEmpty()) {
                continue;
            }
            int colon = spec.indexOf(':');
            int ge = spec.lastIndexOf(">=");
            if (colon <= 0 || ge < colon) {
                throw new IllegalArgumentException("rule '" + spec + "' must look like name:label=a|b>=0.8 or "
                        + "name:index=1,2>=0.5");
            }
            String name = spec.substring(0, colon).strip();
            if (!names.add(name)) {
                throw new IllegalArgumentException("rule name '" + name + "' is used twice");
            }
            float threshold;
            try {
                threshold = Float.parseFloat(spec.substring(ge + 2).strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("rule '" + name + "': threshold must be a number from 0 to 1");
            }
            if (!(threshold >= 0f && threshold <= 1f)) {
                throw new IllegalArgumentException("rule '" + name + "': threshold must be from 0 to 1");
            }
            String selector = spec.substring(colon + 1, ge).strip();
            String model = PRIMARY;
            LabelSet modelLabels = labels;
            if (selector.startsWith("model=")) {
                int comma = selector.indexOf(',');
                if (comma < 0) {
                    throw new IllegalArgumentException("rule '" + name + "': write model=NAME,label=… or "
                            + "model=NAME,index=…");
                }
                model = selector.substring(6, comma).strip();
                if (shadows.contains(model)) {
                    throw new IllegalArgumentException("rule '" + name + "': model '" + model + "' is a shadow"
                            + " (models." + model + ".shadow=true), and a shadow never flags an image");
                }
                modelLabels = sideLabels.get(model);
                if (modelLabels == null) {
                    throw new IllegalArgumentException("rule '" + name + "': no side model '" + model
                            + "' (models.extra lists " + sideLabels.keySet() + ")");
                }
                selector = selector.substring(comma + 1).strip();
            }
            rules.add(new Rule(name, model, classes(name, selector, modelLabels), threshold, modelLabels));
        }
        return new ModerationRules(text, rules, labels, sideLabels, shadows);
    }

    private static int[] classes(String rule, String selector, LabelSet labels) {
        List<Integer> indices = new ArrayList<>();
        if (selector.startsWith("label=")) {
            for (String label : selector.substring(6).split("\\|")) {
                String wanted = label.strip().toLowerCase(Locale.ROOT);
                boolean found = false;
                for (int i = 0; i < labels.size(); i++) {
                    if (labels.name(i).toLowerCase(Locale.ROOT).equals(wanted)) {
                        indices.add(i); // every class with that name: ImageNet repeats some
                        found = true;
                    }
                }
                if (!found) {
                    throw new IllegalArgumentException("rule '" + rule + "': the model has no class labeled '"
                            + label.strip() + "'");
                }
            }
        } else if (selector.startsWith("index=")) {
            for (String index : selector.substring(6).split(",")) {
                int i;
                try {
                    i = Integer.parseInt(index.strip());
                } catch (NumberFormatException e) {
                    throw new IllegalArgumentException("rule '" + rule + "': '" + index.strip() + "' is not a class index");
                }
                if (i < 0 || i >= labels.size()) {
                    throw new IllegalArgumentException("rule '" + rule + "': class index " + i
                            + " is outside the model's 0…" + (labels.size() - 1));
                }
                indices.add(i);
            }
        } else {
            throw new IllegalArgumentException("rule '" + rule + "': select classes with label=… or index=…");
        }
        return indices.stream().mapToInt(Integer::intValue).toArray();
    }

    /** The rules in canonical form (classes by index), e.g. for cache keys. */
    @Override
    public String toString() {
        StringBuilder b = new StringBuilder();
        for (Rule r : rules) {
            b.append(r.name).append(':').append(r.model.isEmpty() ? "" : "model=" + r.model + ",")
                    .append(java.util.Arrays.toString(r.classes)).append(">=").append(r.threshold).append(';');
        }
        return b.toString();
    }

    /** The labels the rules were resolved against. */
    LabelSet labels() {
        return labels;
    }

    public boolean isEmpty() {
        return rules.isEmpty();
    }

    /** The primary's rules that fire on one image's probabilities, each with its highest-scoring matching class. */
    public List<ModerationFlag> evaluate(float[] probabilities) {
        return evaluate(PRIMARY, probabilities);
    }

    /** The rules on {@code model} (a side model's name, or {@link #PRIMARY}) that fire on its probabilities. */
    public List<ModerationFlag> evaluate(String model, float[] probabilities) {
        if (rules.isEmpty()) {
            return List.of();
        }
        List<ModerationFlag> flags = new ArrayList<>();
        for (Rule rule : rules) {
            if (!rule.model.equals(model)) {
                continue;
            }
            int best = -1;
            for (int c : rule.classes) {
                if (probabilities[c] >= rule.threshold && (best < 0 || probabilities[c] > probabilities[best])) {
                    best = c;
                }
            }
            if (best >= 0) {
                // The map, if any, is added where the image's feature map is at hand (Records.explained).
                flags.add(new ModerationFlag(rule.name, best, rule.labels.name(best), probabilities[best],
                        rule.threshold, null));
            }
        }
        return flags;
    }
}
