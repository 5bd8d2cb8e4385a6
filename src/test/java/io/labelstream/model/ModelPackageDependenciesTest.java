package io.labelstream.model;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The core model package serves models; {@code model.adapt} and {@code model.quantize} make them and build on the
 * core (they label with {@link LabelingEngine}). The core must not name them back: what it needs of them, such as
 * the metadata keys they write, lives in the core ({@link ModelMetadata}).
 */
class ModelPackageDependenciesTest {

    private static final Path CORE_SOURCES = Path.of("src/main/java/io/labelstream/model");
    /** As written in a source (import or qualified name, comments included) and as the JVM spells it in a class. */
    private static final Pattern IN_SOURCE = Pattern.compile("io\\.labelstream\\.model\\.(adapt|quantize)\\b");
    private static final List<String> IN_CLASS = List.of("io/labelstream/model/adapt/",
            "io/labelstream/model/quantize/");

    /** What a reader of the core sees: imports, qualified names and Javadoc links alike. */
    @Test
    void noCoreSourceNamesAdaptOrQuantize() throws IOException {
        List<Path> sources = filesDirectlyIn(CORE_SOURCES, ".java");
        assertThat(sources).as("core sources in %s", CORE_SOURCES.toAbsolutePath()).hasSizeGreaterThan(10);
        List<String> offending = new ArrayList<>();
        for (Path source : sources) {
            List<String> lines = Files.readAllLines(source, StandardCharsets.UTF_8);
            for (int i = 0; i < lines.size(); i++) {
                if (IN_SOURCE.matcher(lines.get(i)).find()) {
                    offending.add(source.getFileName() + ":" + (i + 1) + ": " + lines.get(i).strip());
                }
            }
        }
        assertThat(offending).as("core model sources naming model.adapt or model.quantize").isEmpty();
    }

    /** What the JVM loads: every class compiled from the core, nested ones included, as jdeps would read them. */
    @Test
    void noCoreClassReferencesAdaptOrQuantize() throws IOException, URISyntaxException {
        Path classes = Path.of(ModelMetadata.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                .resolve("io/labelstream/model");
        List<Path> compiled = filesDirectlyIn(classes, ".class");
        assertThat(compiled).as("core classes in %s", classes).hasSizeGreaterThan(10);
        List<String> offending = new ArrayList<>();
        for (Path file : compiled) {
            String text = new String(Files.readAllBytes(file), StandardCharsets.ISO_8859_1);
            IN_CLASS.stream().filter(text::contains).forEach(p -> offending.add(file.getFileName() + " -> " + p));
        }
        assertThat(offending).as("core model classes referring to model.adapt or model.quantize").isEmpty();
        // The check can see a reference where there is one: the adapter's class names the core's engine.
        String adapter = new String(Files.readAllBytes(classes.resolve("adapt/Adapter.class")),
                StandardCharsets.ISO_8859_1);
        assertThat(adapter).contains("io/labelstream/model/LabelingEngine");
    }

    private static List<Path> filesDirectlyIn(Path dir, String suffix) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().endsWith(suffix)).sorted()
                    .toList();
        }
    }
}
