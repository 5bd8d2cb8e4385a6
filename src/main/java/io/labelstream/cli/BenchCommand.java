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

    /** The generated models and batch sizes both throughput benchmarks measure. */
    static final class ModelsAndBatches {

        @Option(names = "--models", split = ",", defaultValue = "resnet18,resnet50",
                description = "Generated models to measure: resnet18, resnet34, resnet50, resnet101, resnet152; NAME-int8"
                        + " is NAME quantized to int8, calibrated on generated images (default ${DEFAULT-VALUE}).")
        List<String> models;

        @Option(names = "--batch-sizes", split = ",", defaultValue = "1,8",
                description = "Batch sizes, i.e. max.batch.size for the pipeline (default ${DEFAULT-VALUE}).")
        List<Integer> batchSizes;

        List<io.labelstream.bench.BenchModel> benchModels() {
            return models.stream().map(io.labelstream.bench.BenchModel::parse).toList();
        }
    }

    @Command(name = "engine", mixinStandardHelpOptions = true,
            description = {"Bare ONNX Runtime loop vs the engine (pre-made tensors, and decode + preprocess + infer "
                    + "from JPEGs) for generated ResNets, interleaved in one process; plus preprocessing alone per "
                    + "image size. Prints medians (min–max) and ratios.", "",
                    "Example: labelstream bench engine --models resnet18,resnet50 --batch-sizes 1,8"})
    static final class Engine implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        ModelsAndBatches measured;

        @Option(names = "--rounds", defaultValue = "5", description = "Measured rounds per figure (default ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--threads", defaultValue = "0",
                description = "ORT intra-op and preprocessing threads; 0 = one per core (default).")
        int threads;

        @Option(names = "--int8", description = "Also measure each model's int8 copy beside it, interleaved, and print"
                + " int8 ÷ fp32.")
        boolean int8;

        @Option(names = "--side-model", description = "Also measure the engine with a side model (models.extra; a"
                + " second session of the same model) and print what it adds per image against its inference alone.")
        boolean sideModel;

        @Override
        public Integer call() throws Exception {
            int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
            new EngineBenchmark(new EngineBenchmark.Options(measured.benchModels(), measured.batchSizes, rounds, t,
                    int8, sideModel), System.out).run();
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
            description = {"Side by side, in one process: a bare ONNX Runtime loop on pre-made tensors (the ceiling), "
                    + "the engine (decode + preprocess + infer from the same JPEGs), a peer library if the bench jar "
                    + "carries one (DJL), and the pipeline through a real broker (a pre-loaded backlog, timed until "
                    + "every label is visible to a read_committed consumer), interleaved round by round; then latency "
                    + "at fixed loads and peak memory under a large backlog. Prints medians (min–max) and ratios, "
                    + "writes CSVs and a PNG chart.", "",
                    "Examples:",
                    "  java -jar target/labelstream-bench.jar bench pipeline",
                    "  labelstream bench pipeline --models resnet50 --sizes 224x224 --batch-sizes 8 --rounds 3 "
                            + "--loads 0.5 --backlog 0"})
    static final class Pipeline implements Callable<Integer> {

        @picocli.CommandLine.Mixin
        ModelsAndBatches measured;

        @Option(names = "--sizes", split = ",", defaultValue = "224x224,640x480",
                description = "JPEG sizes, generated photo-like (default ${DEFAULT-VALUE}).")
        List<String> sizes;

        @Option(names = "--rounds", defaultValue = "3", description = "Rounds; figures are medians (default ${DEFAULT-VALUE}).")
        int rounds;

        @Option(names = "--seconds", defaultValue = "3",
                description = "About how long each in-process loop runs per round (default ${DEFAULT-VALUE}).")
        double seconds;

        @Option(names = "--pipeline-seconds", defaultValue = "15",
                description = "Each pipeline backlog holds about this many seconds of work at the ceiling's speed "
                        + "(default ${DEFAULT-VALUE}).")
        double pipelineSeconds;

        @Option(names = "--cost-seconds", defaultValue = "60",
                description = "Each cost run's backlog holds about this many seconds of work at the ceiling's speed; "
                        + "its CPU is read over the last two thirds (default ${DEFAULT-VALUE}).")
        double costSeconds;

        @Option(names = "--threads", defaultValue = "0",
                description = "ORT intra-op and preprocessing threads everywhere; 0 = one per core (default).")
        int threads;

        @Option(names = "--partitions", defaultValue = "1", description = "Input topic partitions (default ${DEFAULT-VALUE}).")
        int partitions;

        @Option(names = "--stream-threads", defaultValue = "1",
                description = "num.stream.threads of the pipeline (default ${DEFAULT-VALUE}).")
        int streamThreads;

        @Option(names = "--bootstrap-servers", description = "Use this Kafka instead of a single-node broker the benchmark starts in its own JVM.")
        String bootstrapServers;

        @Option(names = "--peers", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Measure peers found on the class path; --no-peers skips them (default: yes).")
        boolean peers;

        @Option(names = "--loads", split = ",", defaultValue = "0.5,0.8",
                description = "Latency runs at these fractions of the measured pipeline capacity; empty skips "
                        + "(default ${DEFAULT-VALUE}).")
        List<Double> loads;

        @Option(names = "--latency-rates", split = ",",
                description = "Latency runs at these rates (images per second) instead of --loads: builds or settings "
                        + "compared at one offered rate, where each run's own capacity measurement would move it.")
        List<Double> latencyRates = List.of();

        @Option(names = "--latency-warmup", defaultValue = "PT30S",
                description = "Per load level, offered at its rate before it is timed, so that the JVMs' JIT has "
                        + "compiled that path (default ${DEFAULT-VALUE}).")
        java.time.Duration latencyWarmup;

        @Option(names = "--latency-duration", defaultValue = "PT30S", description = "Per load level (default ${DEFAULT-VALUE}).")
        java.time.Duration latencyDuration;

        @Option(names = "--latency-size", defaultValue = "640x480", description = "JPEG size of the latency runs (default ${DEFAULT-VALUE}).")
        String latencySize;

        @Option(names = "--backlog", defaultValue = "10000",
                description = "Images in the memory run's backlog, 640×480; 0 skips it (default ${DEFAULT-VALUE}).")
        int backlog;

        @Option(names = "--backlog-model", defaultValue = "resnet18", description = "Model of the memory run (default ${DEFAULT-VALUE}).")
        String backlogModel;

        @Option(names = "--memory-jvm", split = " ", defaultValue = "-Xmx1g",
                description = "JVM options of the memory run's process (default ${DEFAULT-VALUE}).")
        List<String> memoryJvm;

        @Option(names = "--run-jvm", split = " ", defaultValue = "-Xmx1g " + io.labelstream.ops.ContainerJvm.OPTIONS,
                description = "JVM options of the cost and idle runs' `labelstream run` processes: by default a 1 GB "
                        + "heap and the options docker/ and deploy/ start labelstream with (default ${DEFAULT-VALUE}).")
        List<String> runJvm;

        @Option(names = "--jit-directives", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "The cost and idle runs also load the compiler directives the images start labelstream "
                        + "with (C2 only for its image and model code, and the rest quickly to C1's plain code; see "
                        + "ContainerJvm); --no-jit-directives leaves the JVM's own compilation policy.")
        boolean jitDirectives;

        @Option(names = "--cost", negatable = true, defaultValue = "true", fallbackValue = "true",
                description = "Each round also runs `labelstream run` in its own JVM on the same backlog and prints "
                        + "the cost table (CPU per image beside the bare loop's); --no-cost skips it.")
        boolean cost;

        @Option(names = "--side-model",
                description = "Each cost run is repeated with a side model (models.extra=side, a second session of "
                        + "the same model) on the same backlog, and a table prints what it adds per image against "
                        + "the bare loop's inference (needs the cost runs).")
        boolean sideModel;

        @Option(names = "--explain-top", split = ",", paramLabel = "N",
                description = "Each cost run is repeated with explain.top=N, for each N given (e.g. 1,5), and a table"
                        + " prints the CPU per image class activation maps add against the run without (needs the"
                        + " cost runs).")
        List<Integer> explainTops = new java.util.ArrayList<>();

        @Option(names = "--idle", defaultValue = "PT20S",
                description = "How long each round measures an idle `labelstream run`, ISO-8601; PT0S skips it "
                        + "(default ${DEFAULT-VALUE}).")
        java.time.Duration idle;

        @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE",
                description = "A labelstream setting for every pipeline run, e.g. -s max.batches.in.flight=3 or "
                        + "-s kafka.commit.interval.ms=200.")
        java.util.Map<String, String> settings = new java.util.LinkedHashMap<>();

        @Option(names = "--out", defaultValue = "target/bench-results",
                description = "Where the CSVs and chart go (default ${DEFAULT-VALUE}).")
        java.nio.file.Path outDir;

        @Override
        public Integer call() throws Exception {
            if (!explainTops.isEmpty() && !cost) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--explain-top is measured in the cost runs: drop --no-cost");
            }
            if (sideModel && !cost) {
                throw new picocli.CommandLine.ParameterException(new picocli.CommandLine(this),
                        "--side-model is measured in the cost runs: drop --no-cost");
            }
            int t = threads > 0 ? threads : Runtime.getRuntime().availableProcessors();
            List<String> runJvm = new java.util.ArrayList<>(this.runJvm);
            if (jitDirectives) {
                java.nio.file.Path dir = java.nio.file.Files.createTempDirectory("labelstream-bench-jit");
                dir.toFile().deleteOnExit();
                java.nio.file.Path file = io.labelstream.ops.ContainerJvm.writeDirectives(dir);
                file.toFile().deleteOnExit();
                runJvm.addAll(io.labelstream.ops.ContainerJvm.jitOptions(file.toString()));
            }
            new io.labelstream.bench.PipelineBenchmark(new io.labelstream.bench.PipelineBenchmark.Options(
                    measured.benchModels(), sizes.stream().map(Pipeline::size).toList(), measured.batchSizes, rounds,
                    t, seconds, pipelineSeconds, partitions, streamThreads, bootstrapServers, peers, loads.stream().filter(l -> l > 0).toList(),
                    latencyRates.stream().filter(r -> r > 0).toList(),
                    latencyWarmup, latencyDuration, size(latencySize), backlog,
                    ResNetGenerator.Architecture.parse(backlogModel),
                    memoryJvm, runJvm, settings, outDir, cost, idle, sideModel, costSeconds, explainTops), System.out)
                    .run();
            return 0;
        }

        private static int[] size(String text) {
            String[] wh = text.toLowerCase(java.util.Locale.ROOT).split("[x×]");
            return new int[] {Integer.parseInt(wh[0].strip()), Integer.parseInt(wh[1].strip())};
        }
    }
}
