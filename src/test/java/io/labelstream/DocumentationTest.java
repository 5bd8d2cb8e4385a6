package io.labelstream;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * README is the user's page and docs/ holds the rest: README stays short and keeps the two set-up commands that
 * .ci/run and the quick start rely on, links every page of docs/, and no relative link of either points nowhere.
 * (The pages' contents are checked where they are produced: the settings table by LabelstreamConfigTest, the
 * fingerprints by PythonClientIT, the bad-input table by BadInputCorpusTest, Compose by DockerFilesTest.)
 */
class DocumentationTest {

    private static final String BUILD_AND_DEMO =
            "mvn -B -q package -DskipTests && java -jar target/labelstream.jar demo";
    private static final String TEST = "mvn -B verify -Dlabelstream.fixtures=../shared/fixtures";
    private static final Pattern LINK = Pattern.compile("\\]\\(([^)\\s]+)\\)");
    private static final Pattern FENCED = Pattern.compile("(?ms)^```.*?^```");

    @Test
    void readmeIsAShortUserPageWithTheTwoSetUpCommands() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        assertThat(readme.lines().count()).as("README.md lines").isLessThanOrEqualTo(300);
        assertThat(readme).contains("```sh\n" + BUILD_AND_DEMO + "\n" + TEST + "\n```");
        String lastCommand = Files.readAllLines(Path.of(".ci/run")).stream().filter(l -> !l.isBlank())
                .reduce((a, b) -> b).orElseThrow();
        assertThat(lastCommand).as(".ci/run runs README's test command").isEqualTo(TEST);
    }

    @Test
    void readmeLinksEveryPageOfDocs() throws IOException {
        String readme = Files.readString(Path.of("README.md"));
        for (Path page : pages()) {
            if (!page.equals(Path.of("README.md"))) {
                String link = "](" + page.toString().replace('\\', '/') + ")";
                assertThat(readme).as("README links %s", page).contains(link);
            }
        }
    }

    @Test
    void everyRelativeLinkAndAnchorResolves() throws IOException {
        List<String> broken = new ArrayList<>();
        int links = 0;
        for (Path page : pages()) {
            String text = FENCED.matcher(Files.readString(page)).replaceAll("").replaceAll("`[^`\\n]*`", "");
            Matcher m = LINK.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("^[a-z]+:.*")) {
                    continue;
                }
                links++;
                int hash = target.indexOf('#');
                String file = hash < 0 ? target : target.substring(0, hash);
                Path resolved = file.isEmpty() ? page : page.resolveSibling(file).normalize();
                if (!Files.exists(resolved)) {
                    broken.add(page + ": " + target + " (no such file)");
                } else if (hash >= 0 && !anchors(resolved).contains(target.substring(hash + 1))) {
                    broken.add(page + ": " + target + " (no such heading)");
                }
            }
        }
        assertThat(links).isGreaterThan(20);
        assertThat(broken).as("broken links").isEmpty();
    }

    private static List<Path> pages() throws IOException {
        List<Path> pages = new ArrayList<>(List.of(Path.of("README.md")));
        try (Stream<Path> docs = Files.walk(Path.of("docs"))) {
            docs.filter(p -> p.toString().endsWith(".md")).sorted().forEach(pages::add);
        }
        return pages;
    }

    /** The anchors GitHub gives a page's headings: lower case, no punctuation, spaces as hyphens, -1… for repeats. */
    private static Set<String> anchors(Path page) throws IOException {
        Set<String> anchors = new HashSet<>();
        if (!page.toString().endsWith(".md")) {
            return anchors;
        }
        Map<String, Integer> seen = new HashMap<>();
        String text = FENCED.matcher(Files.readString(page)).replaceAll("");
        Matcher m = Pattern.compile("(?m)^#{1,6}\\s+(.*)$").matcher(text);
        while (m.find()) {
            String slug = m.group(1).strip().toLowerCase(Locale.ROOT).replaceAll("[^\\p{L}\\p{N}_\\- ]", "")
                    .replace(' ', '-');
            int n = seen.merge(slug, 1, Integer::sum) - 1;
            anchors.add(n == 0 ? slug : slug + "-" + n);
        }
        return anchors;
    }
}
