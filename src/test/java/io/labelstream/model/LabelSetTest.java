package io.labelstream.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class LabelSetTest {

    @TempDir
    Path dir;

    @Test
    void readsPlainAndSynsetLinesByIndex() throws IOException {
        Path file = dir.resolve("labels.txt");
        Files.writeString(file, "n01440764 tench, Tinca tinca\ncrane\nn02012849 crane\n\n");
        LabelSet labels = LabelSet.read(file);
        assertThat(labels.size()).isEqualTo(3);
        assertThat(labels.name(0)).isEqualTo("tench");
        assertThat(labels.name(1)).isEqualTo("crane");
        assertThat(labels.name(2)).isEqualTo("crane");
    }

    @Test
    void refusesABlankLineThatWouldShiftIndices() throws IOException {
        Path file = dir.resolve("labels.txt");
        Files.writeString(file, "a\n\nb\n");
        assertThatThrownBy(() -> LabelSet.read(file)).hasMessageContaining("line 2 is blank");
    }
}
