package io.labelstream.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

/** What the harness's child servers (registry, PostgreSQL, Connect worker) share: a port, a log's tail, clean-up. */
public final class ChildServers {

    private ChildServers() {
    }

    /** A loopback port free right now. */
    public static int freePort() {
        return freePorts(1)[0];
    }

    /** {@code count} distinct loopback ports free right now, for a server that needs several. */
    public static int[] freePorts(int count) {
        return io.labelstream.broker.EmbeddedKafka.freePorts(count);
    }

    /** The last {@code lines} lines of {@code log}, for a failure's message. */
    public static String logTail(Path log, int lines) {
        try {
            if (!Files.exists(log)) {
                return "(no log)";
            }
            List<String> all = Files.readAllLines(log, StandardCharsets.UTF_8);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException | UncheckedIOException e) {
            return "(log unreadable: " + e + ")";
        }
    }

    /** Best effort: a leftover temporary folder is not worth failing a test for (mvn clean takes target/tmp). */
    public static void deleteRecursively(Path dir) {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException e) {
                    // Best effort, as above.
                }
            });
        } catch (IOException e) {
            // Best effort, as above.
        }
    }
}
