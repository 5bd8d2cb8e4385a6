package io.labelstream.cli;

import io.labelstream.bench.EngineBenchmark;
import io.labelstream.model.ResNetGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, description = {"Benchmarks that print figures.", "",
        "Example: labelstream bench engine --models resnet50 --batch-sizes 8 --rounds 7"},
        subcommands = {BenchCommand.Engine.class})
final class BenchCommand {

    @Command(name = "engine", mixinStandardHelpOptions = true,
            description = {"Bare ONNX Runtime loop vs the engine (pre-made tensors, and decode + preprocess + infer "
                    + "from JPEGs) for generated ResNets, interleaved in one process; plus preprocessing alone per "
                    + "image size. Prints medians (min–max) and ratios.", "",
                    "Example: labelstream bench engine --models resnet18,resnet50 --batch-sizes 1,8"})
    static final class Engine implements Callable<Integer> {

        @Option(names = "--models", split = ",", defaultValue = "resnet18,resnet50",
                description = "Generated models to measure (default ${DEFAULT-VALUE}).")
        List<String> models;

        @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8",
                description = "Batch sizes (default ${DEFAULT-VALUE}).")
        List<Integer> batchSizes;

        @Option(names = "--rounds", defaultValue = "5", description = "Measured rounds per figure (default ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--threads", defaultValue = "0",
                description = "ORT intra-op and preprocessing threads; 0 = one per core (default).")
        int threads;

        @Override
        public Integer call() throws Exception {
            int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
            new EngineBenchmark(new EngineBenchmark.Options(models.stream().map(ResNetGenerator.Architecture::parse)
                    .toList(), batchSizes, rounds, t), System.out).run();
            return 0;
        }
    }
}
