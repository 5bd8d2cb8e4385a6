package io.labelstream.stream;

import io.labelstream.testing.BadInputCorpus;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * docs/topics-and-schemas.md documents the outcome of every kind of bad input in the corpus; {@link BadInputCorpusIT} sends the whole
 * corpus through a running pipeline.
 */
class BadInputCorpusTest {

    @TempDir
    Path dir;

    @Test
    void theTopicsPageDocumentsEveryKind() throws Exception {
        String page = Files.readString(Path.of("docs/topics-and-schemas.md"));
        for (BadInputCorpus.Case c : BadInputCorpus.build(Files.createDirectories(dir.resolve("a")),
                Files.createDirectories(dir.resolve("b")), "http://127.0.0.1:1")) {
            String outcome = c.reason() == null ? "labeled" : "`" + c.reason().name() + "`";
            assertThat(page).as("docs/topics-and-schemas.md row for %s", c.kind())
                    .contains("| " + c.kind() + " | " + outcome + " |");
        }
    }
}
