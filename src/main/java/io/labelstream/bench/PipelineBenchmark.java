package io.labelstream.bench;

import io.labelstream.image.SyntheticImages;
import io.labelstream.model.DefaultModel;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.ResNetGenerator;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;

/**
 * How much of the hardware's inference capacity reaches the output topic, measured side by side in one process:
 * for each model, image size and batch size, every round runs the bare ONNX Runtime loop (the ceiling), the engine,
 * any peer library found on the class path, and the pipeline through a real broker, back to back, so each round's
 * ratios compare figures taken under the same conditions. Then latency under a fixed load, and peak memory under a
 * large backlog. Prints a table of medians (min–max) and writes CSVs and a PNG chart.
 */
public final class PipelineBenchmark {

    /**
     * @param seconds         roughly how long each in-process loop runs per round
     * @param pipelineSeconds the pipeline's backlog is sized to take this long at the ceiling's speed
     * @param loads         fractions of the measured pipeline capacity offered in the latency runs
     * @param latencyRates  images per second offered in the latency runs instead of {@code loads}: one rate for
     *                      every build compared, where a capacity measured anew each run would move the load
     * @param latencyWarmup how long each latency run offers its rate before the part that is timed
     * @param backlog       images in the memory run's backlog (0 skips it)
     * @param memoryJvm     JVM options of the memory run's {@code labelstream run} process
     * @param runJvm        JVM options of the cost and idle runs' {@code labelstream run} processes
     * @param settings      labelstream settings for every pipeline run, over the benchmark's own
     * @param cost          whether each round also runs {@code labelstream run} in its own JVM for the cost table
     * @param idle          how long each round measures an idle {@code labelstream run} (zero skips it)
     * @param sideModel     whether each cost run is repeated with a side model, for what a side model adds
     * @param costSeconds   the cost run's backlog is sized to take this long at the ceiling's speed
     * @param explainTops   each cost run is repeated with explain.top at each of these (empty: none)
     */
    public record Options(List<BenchModel> models, List<int[]> sizes, List<Integer> batchSizes,
                          int rounds, int threads, double seconds, double pipelineSeconds, int partitions,
                          int streamThreads,
                          String bootstrapServers, boolean peers, List<Double> loads, List<Double> latencyRates,
                          Duration latencyWarmup, Duration latencyDuration,
                          int[] latencySize, int backlog, ResNetGenerator.Architecture backlogModel,
                          List<String> memoryJvm, List<String> runJvm, Map<String, String> settings, Path outDir,
                          boolean cost, Duration idle, boolean sideModel, double costSeconds,
                          List<Integer> explainTops) {
    }

    private final Options options;
    private final PrintStream out;
    private final ThroughputFigures figures = new ThroughputFigures();
    private final CostTable costs = new CostTable();
    private final ExplainCost explainCosts;

    public PipelineBenchmark(Options options, PrintStream out) {
        this.options = options;
        this.explainCosts = new ExplainCost(options.explainTops());
        this.out = out;
    }

    public void run() throws Exception {
        List<PeerEngine.Provider> providers = new ArrayList<>();
        if (options.peers()) {
            for (PeerEngine.Provider provider : ServiceLoader.load(PeerEngine.Provider.class)) {
                provider.initialize(); // before anything here creates ONNX Runtime's environment
                providers.add(provider);
            }
        }
        Files.createDirectories(options.outDir());
        out.printf(Locale.ROOT, "labelstream side-by-side benchmark: %d cores, %s, ORT intra-op threads of the bare loop "
                        + "and the engine and preprocess threads %d (the pipelines: labelstream's worker layout, by "
                        + "default one single-threaded worker per core), %d round(s), %d partition(s), %d stream "
                        + "thread(s), %s%n", Runtime.getRuntime()
                        .availableProcessors(), System.getProperty("java.vm.name") + " " + System.getProperty(
                        "java.version"), options.threads(), options.rounds(), options.partitions(),
                options.streamThreads(), options.bootstrapServers() == null
                        ? "single-node KRaft broker in its own JVM" : "broker " + options.bootstrapServers());
        if (!options.settings().isEmpty()) {
            out.println("Pipeline settings: " + options.settings());
        }
        if (providers.isEmpty()) {
            out.println("No peer on the class path: build target/labelstream-bench.jar (mvn -Pbench package) to "
                    + "measure DJL beside the engine.");
        }
        out.println(CpuInfo.describe());
        Map<BenchModel, Path> models = new LinkedHashMap<>();
        for (BenchModel model : options.models()) {
            models.put(model, model.ensure());
        }
        Map<String, List<byte[]>> images = new LinkedHashMap<>();
        for (int[] size : options.sizes()) {
            images.put(sizeName(size), jpegs(size, 32));
        }
        // The broker in a JVM of its own, as users run it: its threads neither count in this process's CPU nor
        // share its JIT and garbage collector.
        BrokerProcess broker = options.bootstrapServers() == null ? BrokerProcess.start() : null;
        try {
            String bootstrap = broker == null ? options.bootstrapServers() : broker.bootstrapServers();
            PipelineRuns runs = new PipelineRuns(new PipelineRuns.Setup(bootstrap, options.partitions(),
                    options.streamThreads(), options.threads(), options.settings(), options.runJvm()));
            String runId = Long.toString(System.currentTimeMillis() % 1_000_000, 36);
            throughput(runs, runId, models, images, providers);
            idle(runs, runId, models, broker);
            figures.print(out, options.rounds(), providers.stream().map(PeerEngine.Provider::name).toList(),
                    options.models());
            costs.print(out, options.runJvm());
            explainCosts.print(out);
            if (options.cost()) {
                StageCosts.print(out, images, Math.max(3, options.rounds()));
            }
            List<BenchChart.Latencies> latencies = latency(runs, runId, models, images);
            MemoryRun.Result memory = memory(runs, runId, models, images);
            writeCsv(latencies, memory);
            if (!costs.isEmpty()) {
                costs.writeCsv(options.outDir().resolve("bench-cost.csv"));
            }
            BenchChart.write(options.outDir().resolve("bench.png"), "labelstream side by side ("
                    + Runtime.getRuntime().availableProcessors() + " cores)", figures.chartPoints(), latencies);
            out.printf("%nWritten: %s, %s, %s, %s, %s%n", options.outDir().resolve("bench-throughput.csv"),
                    options.outDir().resolve("bench-latency.csv"), options.outDir().resolve("bench-latency-images.csv"),
                    options.outDir().resolve("bench-summary.csv"), options.outDir().resolve("bench.png"));
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    private void throughput(PipelineRuns runs, String runId, Map<BenchModel, Path> models,
                            Map<String, List<byte[]>> images, List<PeerEngine.Provider> providers) throws Exception {
        int maxBatch = options.batchSizes().stream().mapToInt(Integer::intValue).max().orElse(8);
        for (var model : models.entrySet()) {
            String modelName = model.getKey().name();
            Map<Integer, ThroughputLoops.Ceiling> ceilings = new LinkedHashMap<>();
            Map<String, PeerEngine> peers = new LinkedHashMap<>();
            try (LabelingEngine engine = EngineFactory.create(runs.config(runId + "-engine", model.getValue(),
                    maxBatch))) {
                Map<Integer, Integer> batchesPerRound = new LinkedHashMap<>();
                for (int batch : options.batchSizes()) {
                    ThroughputLoops.Ceiling ceiling = new ThroughputLoops.Ceiling(model.getValue(), batch,
                            options.threads(), images.values().iterator().next().get(0));
                    ceilings.put(batch, ceiling);
                    double probe = ceiling.imagesPerSecond(2);
                    batchesPerRound.put(batch, Math.max(3, (int) Math.ceil(options.seconds() * probe / batch)));
                }
                for (PeerEngine.Provider provider : providers) {
                    PeerEngine peer = provider.open(model.getValue(), options.threads());
                    peers.put(provider.name(), peer);
                    figures.peer(peer.description());
                }
                // One pipeline run first, as long as a measured one and not counted: the JIT compiles the broker's,
                // Streams' and Avro's paths once per process (a service pays that once, not per batch).
                List<byte[]> warmupImages = images.values().iterator().next();
                runs.backlog("bench-" + runId + "-warmup-" + modelName, model.getValue(), warmupImages, maxBatch,
                        Math.max(64, (int) (options.pipelineSeconds() * ceilings.get(maxBatch).imagesPerSecond(2))));
                for (int round = 1; round <= options.rounds(); round++) {
                    for (var size : images.entrySet()) {
                        for (int batch : options.batchSizes()) {
                            int n = batchesPerRound.get(batch);
                            String config = modelName + " " + size.getKey() + " b" + batch;
                            ThroughputLoops.Measured bare = ceilings.get(batch).measure(n);
                            double ceiling = bare.imagesPerSecond();
                            figures.add(modelName, size.getKey(), batch, "ceiling", round, ceiling);
                            ThroughputLoops.Measured engineRun = ThroughputLoops.engine(engine, size.getValue(), batch,
                                    n, 2 * engine.primaryModel().inferencePool().workers());
                            figures.add(modelName, size.getKey(), batch, "engine", round, engineRun.imagesPerSecond());
                            for (PeerEngine.Provider provider : providers) {
                                figures.add(modelName, size.getKey(), batch, provider.name(), round,
                                        ThroughputLoops.peer(peers.get(provider.name()),
                                                size.getValue(), batch, n));
                            }
                            int backlog = backlog(options.pipelineSeconds(), ceiling, batch);
                            String name = String.format(Locale.ROOT, "bench-%s-r%d-%s-%s-b%d", runId, round,
                                    modelName, size.getKey().replace('×', 'x'), batch);
                            PipelineRuns.Backlog result = runs.backlog(name, model.getValue(), size.getValue(), batch,
                                    backlog);
                            figures.add(modelName, size.getKey(), batch, "pipeline", round, result.steadyImagesPerSecond());
                            figures.add(modelName, size.getKey(), batch, "pipeline incl. start-up", round,
                                    result.totalImagesPerSecond());
                            figures.pipelineRun(modelName, size.getKey(), batch, result.startupSeconds(),
                                    result.meanBatch());
                            out.printf(Locale.ROOT, "  round %d %-26s ceiling %7.1f  pipeline %7.1f img/s (%d images,"
                                            + " start-up %.1f s, mean batch %.1f); CPU ms per image: bare %.1f, engine "
                                            + "%.1f%n", round, config, ceiling, result.steadyImagesPerSecond(), backlog,
                                    result.startupSeconds(), result.meanBatch(), bare.cpuMsPerImage(),
                                    engineRun.cpuMsPerImage());
                            if (options.cost()) {
                                // Longer than the pipeline's backlog: a fresh JVM keeps compiling for its first
                                // minute, and a service pays that once, not per image.
                                int costBacklog = backlog(options.costSeconds(), ceiling, batch);
                                // The bare loop the run is judged against brackets it, a sixth of its work before
                                // and after: a shared host's speed drifts over a minute, and a few seconds' sample
                                // taken earlier would compare the run with another machine.
                                int bracket = Math.max(3, costBacklog / 6 / batch);
                                ThroughputLoops.Measured before = ceilings.get(batch).measure(bracket);
                                CostRun.Backlog run = CostRun.backlog(runs, name + "-run", model.getValue(),
                                        size.getValue(), batch, costBacklog);
                                ThroughputLoops.Measured after = ceilings.get(batch).measure(bracket);
                                ThroughputLoops.Measured costBare = ThroughputLoops.Measured.pooled(before, after);
                                costs.add(config, round, costBare, run);
                                // Both halves printed: when they disagree, the host changed speed during the run.
                                out.printf(Locale.ROOT, "  round %d %-26s labelstream run (own JVM) %.1f img/s, CPU ms"
                                        + " per image %.1f; bare loop around it %.1f (before %.1f, after %.1f): bare ÷"
                                        + " run %.3f%n", round, config, run.imagesPerSecond(), run.cpuMsPerImage(),
                                        costBare.cpuMsPerImage(), before.cpuMsPerImage(), after.cpuMsPerImage(),
                                        costBare.cpuMsPerImage() / run.cpuMsPerImage());
                                if (explainCosts.wanted()) {
                                    explainCosts.measure(runs, name, model.getValue(), size.getValue(), batch,
                                            costBacklog, config, round, run, out);
                                }
                                if (options.sideModel()) {
                                    CostRun.Backlog withSide = CostRun.backlog(runs, name + "-side", model.getValue(),
                                            size.getValue(), batch, costBacklog, Map.of("models.extra", "side",
                                                    "models.side.path", model.getValue().toString()));
                                    costs.addSide(config, round, costBare, run, withSide);
                                    out.printf(Locale.ROOT, "  round %d %-26s labelstream run + a side model %.1f img/s,"
                                                    + " CPU ms per image %.1f: the side model adds %.1f%n", round, config,
                                            withSide.imagesPerSecond(), withSide.cpuMsPerImage(),
                                            withSide.cpuMsPerImage() - run.cpuMsPerImage());
                                }
                            }
                        }
                    }
                }
            } finally {
                for (ThroughputLoops.Ceiling c : ceilings.values()) {
                    c.close();
                }
                peers.values().forEach(PeerEngine::close);
            }
        }
    }

    /** Once per round, an idle instance of the first model: nothing in its input topic. */
    private void idle(PipelineRuns runs, String runId, Map<BenchModel, Path> models, BrokerProcess broker)
            throws Exception {
        if (options.idle().isZero() || options.idle().isNegative()) {
            return;
        }
        var model = models.entrySet().iterator().next();
        for (int round = 1; round <= options.rounds(); round++) {
            CostRun.Idle idle = CostRun.idle(runs, "bench-" + runId + "-idle-r" + round, model.getValue(), 8,
                    settleBeforeIdle(), options.idle(), broker == null ? null : broker.pid());
            costs.addIdle(idle);
            out.printf(Locale.ROOT, "  round %d idle labelstream run: %.1f CPU ms per second%n", round,
                    idle.msPerSecond(idle.labelstream()));
        }
    }

    /**
     * As long as the measured window, at least 5 s: the JIT compiles the idle loop's paths only after they have run
     * a while, at a few rounds a second, and a pod idles for hours.
     */
    private Duration settleBeforeIdle() {
        return options.idle().compareTo(Duration.ofSeconds(5)) < 0 ? Duration.ofSeconds(5) : options.idle();
    }

    /** Whole batches taking about {@code seconds} at {@code imagesPerSecond}; at least eight of them. */
    private static int backlog(double seconds, double imagesPerSecond, int batch) {
        return Math.max(8 * batch, (int) Math.round(seconds * imagesPerSecond / batch) * batch);
    }

    private List<BenchChart.Latencies> latency(PipelineRuns runs, String runId,
                                               Map<BenchModel, Path> models,
                                               Map<String, List<byte[]>> images) throws Exception {
        List<BenchChart.Latencies> all = new ArrayList<>();
        if (options.loads().isEmpty() && options.latencyRates().isEmpty()) {
            return all;
        }
        String size = sizeName(options.latencySize());
        List<byte[]> jpegs = images.computeIfAbsent(size, k -> jpegs(options.latencySize(), 32));
        int batch = options.batchSizes().contains(8) ? 8
                : options.batchSizes().stream().mapToInt(Integer::intValue).max().orElse(8);
        long delayMs = Long.parseLong(io.labelstream.config.Settings.MAX_BATCH_DELAY_MS.defaultValue());
        out.printf("%nLatency under load: %s JPEGs, max.batch.size %d, max.batch.delay.ms %d, commit.interval.ms 100 "
                        + "(exactly-once), %d s per level after %d s at its rate untimed; event time → label visible "
                        + "to a read_committed consumer%n", size, batch, delayMs, options.latencyDuration().toSeconds(),
                options.latencyWarmup().toSeconds());
        out.printf("  %-9s %-5s %-10s %-9s %-9s %-9s %-10s %-32s%n", "model", "load", "offered/s", "p50 ms", "p95 ms",
                "p99 ms", "mean batch", "target p99 ≤ delay + 2×b8 infer + commit");
        for (var model : models.entrySet()) {
            String modelName = model.getKey().name();
            Samples capacity = figures.samples(modelName, size, batch, "pipeline");
            Samples ceiling = figures.ceiling(modelName, batch);
            if (capacity.values().length == 0) {
                capacity = Samples.of(List.of(runs.backlog("bench-" + runId + "-capacity-" + modelName,
                        model.getValue(), jpegs, batch, 400).steadyImagesPerSecond()));
            }
            double batchInferenceMs = ceiling.values().length == 0 ? Double.NaN : 1000.0 * batch / ceiling.median();
            double bound = delayMs + 2 * batchInferenceMs + 100;
            double measured = capacity.median();
            List<Double> rates = options.latencyRates().isEmpty()
                    ? options.loads().stream().map(load -> load * measured).toList()
                    : options.latencyRates();
            for (int level = 0; level < rates.size(); level++) {
                double rate = rates.get(level);
                double load = rate / measured;
                // Named by its place in the list: two rates close together round to the same load.
                String name = String.format(Locale.ROOT, "bench-%s-latency-%s-%d", runId, modelName, level);
                PipelineRuns.Latency result = runs.latency(name, model.getValue(), jpegs, batch, rate,
                        options.latencyWarmup(), options.latencyDuration());
                Percentiles p = Percentiles.of(result.latencyMs());
                double untimedP99 = result.untimedMs().length == 0 ? Double.NaN
                        : Percentiles.of(result.untimedMs()).at(99);
                out.printf(Locale.ROOT, "  %-9s %-5s %-10.1f %-9.0f %-9.0f %-9.0f %-10.1f %.0f ms: %s; untimed part "
                                + "p99 %.0f ms; commits %.0f ms (longest %.0f)%n", modelName,
                        Math.round(load * 100) + "%", rate, p.at(50), p.at(95), p.at(99), result.meanBatch(), bound,
                        p.at(99) <= bound ? "met" : "missed", untimedP99, result.commitMeanMs(), result.commitMaxMs());
                all.add(new BenchChart.Latencies(String.format(Locale.ROOT, "%s %s at %d%% (%.0f/s)", modelName, size,
                        Math.round(load * 100), rate), result.latencyMs()));
                latencyRows.add(String.format(Locale.ROOT, "%s,%s,%d,%d,%.2f,%.1f,%.1f,%.1f,%.2f,%.1f,%.1f,%.1f,%.1f",
                        modelName, size, batch, Math.round(load * 100), rate, p.at(50), p.at(95), p.at(99),
                        result.meanBatch(), bound, untimedP99, result.commitMeanMs(), result.commitMaxMs()));
                for (int i = 0; i < result.latencyMs().length; i++) {
                    imageRows.add(String.format(Locale.ROOT, "%s,%d,%d,%.0f,%.0f,%d", modelName, level,
                            Math.round(load * 100), result.sentMs()[i], result.latencyMs()[i], result.batchSize()[i]));
                }
            }
        }
        return all;
    }

    private final List<String> latencyRows = new ArrayList<>();
    /** Per image of every latency run: when it was sent, how long it took, the batch it was labeled in. */
    private final List<String> imageRows = new ArrayList<>();

    private MemoryRun.Result memory(PipelineRuns runs, String runId, Map<BenchModel, Path> models,
                                    Map<String, List<byte[]>> images) throws Exception {
        if (options.backlog() <= 0) {
            return null;
        }
        BenchModel backlogModel = new BenchModel(options.backlogModel(), false);
        Path model = models.containsKey(backlogModel) ? models.get(backlogModel)
                : DefaultModel.ensure(options.backlogModel());
        List<byte[]> jpegs = images.computeIfAbsent("640×480", k -> jpegs(new int[] {640, 480}, 32));
        out.printf("%nMemory: a backlog of %d 640×480 JPEGs through `labelstream run` in its own JVM (%s), %s, batch 8"
                + "%n", options.backlog(), String.join(" ", options.memoryJvm()), options.backlogModel().modelName());
        MemoryRun.Result result = MemoryRun.run(runs, "bench-" + runId + "-memory", model, jpegs, 8,
                options.backlog(), options.memoryJvm());
        out.printf(Locale.ROOT, "  %d images in %.0f s (%.1f img/s, start-up included); peak RSS %.0f MB, peak heap in "
                        + "use %.0f MB; target RSS ≤ 1536 MB: %s%n", result.images(), result.seconds(),
                result.images() / result.seconds(), result.peakRssMb(), result.peakHeapMb(),
                result.peakRssMb() <= 1536 ? "met" : "missed");
        return result;
    }

    private void writeCsv(List<BenchChart.Latencies> latencies, MemoryRun.Result memory) throws IOException {
        Files.write(options.outDir().resolve("bench-throughput.csv"), figures.throughputCsv());
        List<String> latency = new ArrayList<>(List.of("model,images,batch,load_percent,offered_per_second,p50_ms,"
                + "p95_ms,p99_ms,mean_batch,target_p99_ms,untimed_p99_ms,commit_ms_mean,commit_ms_max"));
        latency.addAll(latencyRows);
        Files.write(options.outDir().resolve("bench-latency.csv"), latency);
        List<String> images = new ArrayList<>(List.of("model,level,load_percent,sent_ms,latency_ms,batch_size"));
        images.addAll(imageRows);
        Files.write(options.outDir().resolve("bench-latency-images.csv"), images);
        List<String> summary = figures.summaryCsv();
        if (memory != null) {
            summary.add(String.format(Locale.ROOT, "memory,%d images 640×480,8,peak_rss_mb,%.0f,,,", memory.images(),
                    memory.peakRssMb()));
            summary.add(String.format(Locale.ROOT, "memory,%d images 640×480,8,peak_heap_mb,%.0f,,,", memory.images(),
                    memory.peakHeapMb()));
        }
        Files.write(options.outDir().resolve("bench-summary.csv"), summary);
    }

    static String sizeName(int[] size) {
        return size[0] + "×" + size[1];
    }

    private static List<byte[]> jpegs(int[] size, int count) {
        List<byte[]> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(SyntheticImages.jpeg(size[0], size[1], 9000 + i));
        }
        return list;
    }
}
