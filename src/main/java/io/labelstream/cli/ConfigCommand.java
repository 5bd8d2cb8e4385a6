package io.labelstream.cli;

import io.labelstream.config.LabelstreamConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "config", mixinStandardHelpOptions = true,
        description = {"Prints the effective configuration: every setting, its value and where it came from "
                + "(default, file, environment, command line), with secrets masked. Validates everything, as start-up "
                + "would.", "", "Precedence, lowest first: defaults, --config FILE, LABELSTREAM_* environment "
                + "variables (LABELSTREAM_MAX_BATCH_SIZE=16, LABELSTREAM_KAFKA_SASL_MECHANISM=SCRAM-SHA-512), --set, "
                + "then --bootstrap-servers/--model/--labels.", "",
                "Example: labelstream config --config prod.properties -s max.batch.size=16"})
final class ConfigCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() {
        LabelstreamConfig config = options.load(Map.of());
        var rows = config.describe();
        int width = rows.stream().mapToInt(r -> r[0].length()).max().orElse(10);
        for (String[] row : rows) {
            System.out.printf("%-" + width + "s  %-12s %s%n", row[0], row[2], row[1].isEmpty() ? "(empty)" : row[1]);
        }
        return 0;
    }
}
