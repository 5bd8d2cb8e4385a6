package io.labelstream.model;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

/**
 * Class names keyed by the model's output index. Keyed by index, never by name: ImageNet repeats names
 * ("crane", "maillot"), so a name alone does not identify a class.
 */
public final class LabelSet {

    private static final Pattern SYNSET_LINE = Pattern.compile("^n\\d{8}\\s+(.+)$");

    private final List<String> names;

    private LabelSet(List<String> names) {
        this.names = List.copyOf(names);
    }

    public static LabelSet of(List<String> names) {
        return new LabelSet(names);
    }

    /**
     * Reads one label per line, or {@code nXXXXXXXX name[, other names]} synset lines (the first name is kept,
     * as torchvision does). Blank trailing lines are ignored; a blank line in the middle is an error because it
     * would shift every following index.
     */
    public static LabelSet read(Path file) throws IOException {
        List<String> lines = new ArrayList<>(Files.readAllLines(file, StandardCharsets.UTF_8));
        while (!lines.isEmpty() && lines.get(lines.size() - 1).isBlank()) {
            lines.remove(lines.size() - 1);
        }
        List<String> names = new ArrayList<>(lines.size());
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty()) {
                throw new IOException(file + " line " + (i + 1) + " is blank: every line is one class, by index");
            }
            var synset = SYNSET_LINE.matcher(line);
            names.add(synset.matches() ? synset.group(1).split(",")[0].strip() : line);
        }
        return new LabelSet(names);
    }

    /** Placeholder names for a model without a labels file, e.g. a generated untrained model. */
    public static LabelSet numbered(int count) {
        List<String> names = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            names.add(String.format("class-%04d", i));
        }
        return new LabelSet(names);
    }

    public int size() {
        return names.size();
    }

    public String name(int index) {
        return names.get(index);
    }
}
