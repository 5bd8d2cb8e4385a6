package io.labelstream.cli;

import io.labelstream.config.ConfigException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code labelstream} command. */
@Command(name = "labelstream", mixinStandardHelpOptions = true, version = "labelstream 0.1.0",
        description = "Labels images flowing through Kafka with an ONNX Runtime image classifier.",
        footer = {"", "Examples:",
                "  labelstream demo                                   # everything embedded, no setup",
                "  labelstream run --bootstrap-servers kafka:9092 --model m.onnx --labels synset.txt",
                "  labelstream classify --model m.onnx --labels synset.txt photo.jpg",
                "  labelstream <command> --help                       # each command's options and examples"},
        subcommands = {DemoCommand.class, RunCommand.class, ReplayCommand.class, ClassifyCommand.class, ConfigCommand.class,
                ProduceCommand.class, TailCommand.class, HealthCommand.class, ModelCommand.class, ReviewCommand.class,
                BenchCommand.class,
                CommandLine.HelpCommand.class})
public final class Main {

    public static void main(String[] args) {
        System.exit(execute(args));
    }

    static int execute(String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
            if (e instanceof ConfigException) {
                commandLine.getErr().println("labelstream: " + e.getMessage());
                return 2;
            }
            throw e;
        });
        return cli.execute(args);
    }
}
