package io.labelstream.cli;

import io.labelstream.bench.EngineBenchmark;
import io.labelstream.model.ResNetGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.List;
import java.util.concurrent.Callable;

@Command(name = "bench", mixinStandardHelpOptions = true, description = {"Benchmarks that print figures.", "",
        "Example: labelstream bench engine --models resnet50 --batch-sizes 8 --rounds 7"},
        subcommands = {BenchCommand.Engine.class, BenchCommand.Pipeline.class, BenchCommand.Soak.class})
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

    @Command(name = "soak", mixinStandardHelpOptions = true,
            description = {"Steady load for a fixed time on the embedded broker (producer at a fixed rate, the "
                    + "pipeline, a read_committed reader), then throughput and heap after GC, threads and open files "
                    + "at the start and the end. Exits 1 if any of them grew.", "",
                    "Example: labelstream bench soak --duration PT30M --rate 20 --model resnet50.onnx"})
    static final class Soak implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        ConfigOptions options;

        @Option(names = "--duration", defaultValue = "PT30M", description = "How long (default ${DEFAULT-VALUE}).")
        java.time.Duration duration;

        @Option(names = "--rate", defaultValue = "20", description = "Images per second (default ${DEFAULT-VALUE}).")
        double rate;

        @Override
        public Integer call() throws Exception {
            var config = io.labelstream.model.DefaultModel.orGenerated(options.load(
                    java.util.Map.of("ops.port", "-1", "application.id", "labelstream-soak")), System.out);
            return new io.labelstream.bench.SoakRun(config, duration, rate, System.out).run().bounded() ? 0 : 1;
        }
    }

    @Command(name = "pipeline", mixinStandardHelpOptions = true,
            description = {"Pipeline throughput against ONNX Runtime's own ceiling, in one process: a bare ORT loop, "
                    + "then a backlog pre-loaded into the embedded broker's input topic timed from start until every "
                    + "label is committed and visible to a read_committed consumer. Start-up time counts.", "",
                    "Example: labelstream bench pipeline --models resnet50 --images 400"})
    static final class Pipeline implements Callable<Integer> {

        @Option(names = "--models", split = ",", defaultValue = "resnet18,resnet50",
                description = "Generated models (default ${DEFAULT-VALUE}).")
        List<String> models;

        @Option(names = "--images", defaultValue = "400", description = "Backlog per run (default ${DEFAULT-VALUE}).")
        int images;

        @Option(names = "--batch-size", defaultValue = "8", description = "max.batch.size (default ${DEFAULT-VALUE}).")
        int batchSize;

        @Override
        public Integer call() throws Exception {
            int cores = Runtime.getRuntime().availableProcessors();
            new io.labelstream.bench.PipelineBenchmark(new io.labelstream.bench.PipelineBenchmark.Options(
                    models.stream().map(ResNetGenerator.Architecture::parse).toList(),
                    List.of(new int[] {224, 224}, new int[] {640, 480}), images, batchSize, cores), System.out).run();
            return 0;
        }
    }
}
