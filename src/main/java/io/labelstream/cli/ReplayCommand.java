package io.labelstream.cli;

import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.Topics;
import io.labelstream.stream.FailureReplayer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "replay", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Re-publishes failed inputs from the failures topic to the input topic, exactly as they first "
                + "arrived, e.g. after fixing the setting that made them fail. Reads the failures committed so far.",
                "", "Examples:",
                "  labelstream replay --bootstrap-servers kafka:9092 --reason FETCH_FAILED --since PT2H",
                "  labelstream replay --bootstrap-servers kafka:9092 --reason MODEL_ERROR,UNDECODABLE_IMAGE --dry-run"})
final class ReplayCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = "--reason", split = ",", paramLabel = "REASON",
            description = "Only these reasons (default: all), e.g. FETCH_FAILED,MODEL_ERROR.")
    List<String> reasons = List.of();

    @Option(names = "--since", paramLabel = "WHEN",
            description = "Only failures at or after WHEN: an ISO-8601 instant (2026-11-27T10:00:00Z) or a duration "
                    + "before now (PT2H, P1D).")
    String since;

    @Option(names = "--until", paramLabel = "WHEN", description = "Only failures before WHEN (same forms).")
    String until;

    @Option(names = "--to", paramLabel = "TOPIC", description = "Target topic (default: the first input topic).")
    String to;

    @Option(names = "--dry-run", description = "Count what would be replayed, publish nothing.")
    boolean dryRun;

    @Override
    public Integer call() {
        LabelstreamConfig config = options.load(Map.of());
        if (!ConfigOptions.requireCluster(config, "replay")) {
            return 2;
        }
        EnumSet<FailureReason> wanted = EnumSet.noneOf(FailureReason.class);
        for (String r : reasons) {
            try {
                wanted.add(FailureReason.valueOf(r.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                System.err.println("labelstream: --reason: unknown reason '" + r + "'; allowed: "
                        + EnumSet.allOf(FailureReason.class));
                return 2;
            }
        }
        Instant from;
        Instant upTo;
        try {
            from = when(since);
            upTo = when(until);
        } catch (DateTimeParseException e) {
            System.err.println("labelstream: --since/--until: '" + e.getParsedString()
                    + "' is neither an ISO-8601 instant nor a duration like PT2H");
            return 2;
        }
        String target;
        FailureReplayer.Summary summary;
        try (Topics topics = Topics.forConfig(config)) {
            target = to != null ? to : topics.input().name();
            summary = new FailureReplayer(KafkaClients.of(config)).replay(topics.failures(), target,
                    new FailureReplayer.Filter(wanted, from, upTo), dryRun);
        }
        System.out.printf("%s %d failure(s) %s '%s'%s%n", dryRun ? "Would replay" : "Replayed", summary.total(),
                dryRun ? "to" : "into", target, summary.replayed().isEmpty() ? "" : " " + summary.replayed());
        System.out.printf("Skipped: %d not matching, %d without original bytes, %d unreadable%n", summary.filteredOut(),
                summary.withoutOriginal(), summary.unreadable());
        return 0;
    }

    private static Instant when(String text) {
        if (text == null) {
            return null;
        }
        String t = text.trim();
        return t.startsWith("P") ? Instant.now().minus(Duration.parse(t)) : Instant.parse(t);
    }
}
