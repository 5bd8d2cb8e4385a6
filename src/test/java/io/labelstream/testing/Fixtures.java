package io.labelstream.testing;

import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real pretrained models and labeled images beside the repository (../shared/fixtures), found through the
 * {@code labelstream.fixtures} system property or the {@code LABELSTREAM_FIXTURES} environment variable.
 * Tests that need them are skipped, with the reason, where they are absent.
 */
public final class Fixtures {

    private Fixtures() {
    }

    public static Path dir() {
        String configured = System.getProperty("labelstream.fixtures");
        if (configured == null || configured.isBlank()) {
            configured = System.getenv("LABELSTREAM_FIXTURES");
        }
        Assumptions.assumeTrue(configured != null && !configured.isBlank(),
                "fixtures not configured: set -Dlabelstream.fixtures=PATH (or LABELSTREAM_FIXTURES) to ../shared/fixtures");
        Path dir = Path.of(configured);
        Assumptions.assumeTrue(Files.isDirectory(dir), "fixtures folder " + dir.toAbsolutePath() + " does not exist");
        return dir;
    }
}
