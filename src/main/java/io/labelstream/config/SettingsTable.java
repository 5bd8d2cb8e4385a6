package io.labelstream.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/**
 * The settings table of docs/configuration.md, made from {@link Settings}: every setting, its default and its
 * description, in the order of {@link Settings#ALL} and then the side-model settings. A test holds the page to
 * exactly this table; {@code main} rewrites it after a setting changes.
 */
public final class SettingsTable {

    public static final String BEGIN = "<!-- settings:begin -->\n";
    public static final String END = "<!-- settings:end -->";

    private SettingsTable() {
    }

    /** The table in Markdown, header included, each row ending in a newline. */
    public static String markdown() {
        StringBuilder table = new StringBuilder("| setting | default | meaning |\n| --- | --- | --- |\n");
        Stream.concat(Settings.ALL.stream(), Settings.SIDE_MODEL.stream()).forEach(s -> table.append("| `")
                .append(s.key()).append("` | ")
                .append(s.defaultValue().isEmpty() ? "(empty)" : "`" + s.defaultValue() + "`").append(" | ")
                .append(s.description().replace("|", "\\|")).append(" |\n"));
        return table.toString();
    }

    /** The table between the markers of {@code page}. */
    public static String in(String page) {
        int begin = page.indexOf(BEGIN);
        int end = page.indexOf(END);
        if (begin < 0 || end < begin) {
            throw new IllegalArgumentException("no " + BEGIN.strip() + " … " + END + " in the page");
        }
        return page.substring(begin + BEGIN.length(), end);
    }

    /** Rewrites the table in the page given (default docs/configuration.md) from the code's settings. */
    public static void main(String[] args) throws IOException {
        Path page = Path.of(args.length > 0 ? args[0] : "docs/configuration.md");
        String text = Files.readString(page);
        String old = in(text);
        Files.writeString(page, text.replace(BEGIN + old + END, BEGIN + markdown() + END));
    }
}
