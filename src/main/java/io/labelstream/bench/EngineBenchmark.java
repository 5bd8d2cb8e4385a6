package io.labelstream.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.JpegDecoding;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.ResNetGenerator;
import io.labelstream.model.Scores;
import io.labelstream.model.SessionSettings;
import io.labelstream.model.TensorBatch;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The model engine against ONNX Runtime's own ceiling, measured side by side in one process: for each model
 * and batch size, rounds of the bare ORT loop, the engine on pre-made tensors and the engine from JPEG bytes
 * are interleaved, so machine noise hits all of them alike. Also times preprocessing alone per image size.
 */
public final class EngineBenchmark {

    /**
     * @param int8 also measure each model's int8 copy beside it, rounds interleaved, and print int8 ÷ fp32
     */
    /** @param sideModel also measure the engine with a side model (a second session of the same model) */
    public record Options(List<BenchModel> models, List<Integer> batchSizes, int rounds, int threads, boolean int8,
                          boolean sideModel) {
    }

    private final Options options;
    private final PrintStream out;

    public EngineBenchmark(Options options, PrintStream out) {
        this.options = options;
        this.out = out;
    }

    public void run() throws Exception {
        out.printf("labelstream engine benchmark: %d cores, ORT intra-op threads %d, preprocess threads %d, %d rounds,"
                        + " medians (min–max)%n%s%n%n", Runtime.getRuntime().availableProcessors(), options.threads(),
                options.threads(), options.rounds(), CpuInfo.describe());
        preprocessing();
        for (BenchModel model : options.models()) {
            inference(model);
        }
        if (options.int8()) {
            for (BenchModel model : options.models()) {
                if (!model.int8()) {
                    int8BesideFp32(model);
                }
            }
        }
    }

    /**
     * The int8 copy against its fp32 source, at each batch size: bare ONNX Runtime loops and the engine from
     * 640×480 JPEGs with two batches in flight, the four interleaved in every round.
     */
    private void int8BesideFp32(BenchModel fp32) throws Exception {
        BenchModel int8 = fp32.asInt8();
        Path fp32File = fp32.ensure();
        Path int8File = int8.ensure();
        List<byte[]> vga = jpegs(640, 480, 32);
        out.printf("%s int8 beside fp32 (generated weights; int8 calibrated on %d generated images), images per"
                + " second:%n", fp32.name(), io.labelstream.model.quantize.GeneratedInt8.CALIBRATION_IMAGES);
        out.printf("  %-5s  %-22s %-22s %-7s  %-22s %-22s %-7s%n", "batch", "bare ORT fp32", "bare ORT int8",
                "int8÷fp32", "engine fp32", "engine int8", "int8÷fp32");
        for (int batch : options.batchSizes()) {
            List<Double> bareFp32 = new ArrayList<>();
            List<Double> bareInt8 = new ArrayList<>();
            List<Double> engineFp32 = new ArrayList<>();
            List<Double> engineInt8 = new ArrayList<>();
            int perRound = Math.max(batch, (int) (96 / fp32.architecture().relativeCost())
                    / batch * batch);
            try (ThroughputLoops.Ceiling a = new ThroughputLoops.Ceiling(fp32File, batch, options.threads(), vga.get(0));
                 ThroughputLoops.Ceiling b = new ThroughputLoops.Ceiling(int8File, batch, options.threads(), vga.get(0));
                 LabelingEngine ea = engine(fp32File, fp32.name());
                 LabelingEngine eb = engine(int8File, int8.name())) {
                for (int r = 0; r < options.rounds() + 1; r++) {
                    double ba = a.imagesPerSecond(perRound / batch);
                    double bb = b.imagesPerSecond(perRound / batch);
                    double xa = ThroughputLoops.engine(ea, vga, batch, perRound / batch, 2).imagesPerSecond();
                    double xb = ThroughputLoops.engine(eb, vga, batch, perRound / batch, 2).imagesPerSecond();
                    if (r > 0) { // the first round warms up
                        bareFp32.add(ba);
                        bareInt8.add(bb);
                        engineFp32.add(xa);
                        engineInt8.add(xb);
                    }
                }
            }
            out.printf("  %-5d  %-22s %-22s %-9s  %-22s %-22s %-9s%n", batch, Samples.of(bareFp32).format(""),
                    Samples.of(bareInt8).format(""), ratio(bareInt8, bareFp32), Samples.of(engineFp32).format(""),
                    Samples.of(engineInt8).format(""), ratio(engineInt8, engineFp32));
        }
        out.println();
    }

    private LabelingEngine engine(Path file, String name) throws Exception {
        LoadedModel model = LoadedModel.load(file, null, name, new SessionSettings(options.threads()));
        return new LabelingEngine(model, new ImagePreprocessor(PreprocessRecipe.IMAGENET,
                new ImageDecoder(ImageLimits.defaults())), 5, Scores.OutputKind.AUTO, options.threads());
    }

    private void preprocessing() throws Exception {
        // Every available JPEG decoder side by side, so their ratio comes from one run.
        Map<String, ImageDecoder> decoders = new LinkedHashMap<>();
        JpegDecoding automatic = JpegDecoding.automatic();
        decoders.put(automatic.settingValue(), new ImageDecoder(ImageLimits.defaults(), automatic));
        if (automatic != JpegDecoding.JDK) {
            decoders.put("jdk", new ImageDecoder(ImageLimits.defaults(), JpegDecoding.JDK));
        }
        out.println(automatic.describe());
        out.println("Preprocessing alone, one thread (decode + resize + crop + normalize), ms per image:");
        int[][] sizes = {{224, 224}, {640, 480}, {1920, 1080}, {4000, 3000}};
        PreprocessRecipe fullDecode = new PreprocessRecipe("imagenet-full-decode",
                PreprocessRecipe.ResizeMode.SHORTER_SIDE, 256, 224, 224, PreprocessRecipe.PixelScale.UNIT,
                PreprocessRecipe.IMAGENET.mean(), PreprocessRecipe.IMAGENET.std(), PreprocessRecipe.ChannelOrder.RGB,
                false);
        for (int[] size : sizes) {
            int distinct = size[0] >= 1920 ? 4 : 16;
            List<byte[]> jpegs = new ArrayList<>();
            for (int i = 0; i < distinct; i++) {
                jpegs.add(SyntheticImages.jpeg(size[0], size[1], 1000 + i));
            }
            int perRound = size[0] >= 4000 ? 8 : size[0] >= 1920 ? 16 : 64;
            // The decoders are compared within a group; full-resolution decoding of the largest size is a group
            // of its own, so its garbage (36 MB per image) does not slow the other group's rounds.
            List<PreprocessRecipe> groups = size[0] >= 4000 ? List.of(PreprocessRecipe.IMAGENET, fullDecode)
                    : List.of(PreprocessRecipe.IMAGENET);
            for (PreprocessRecipe recipe : groups) {
                Map<String, ImagePreprocessor> variants = new LinkedHashMap<>();
                for (var decoder : decoders.entrySet()) {
                    variants.put(", " + decoder.getKey() + (recipe == fullDecode ? ", full-resolution decode" : ""),
                            new ImagePreprocessor(recipe, decoder.getValue()));
                }
                timePreprocessing(size, jpegs, perRound, variants);
            }
        }
        out.println();
    }

    private void timePreprocessing(int[] size, List<byte[]> jpegs, int perRound,
                                   Map<String, ImagePreprocessor> variants) throws Exception {
        float[] values = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
        // Two seconds of warm-up each first: the resize loops need the JIT's second tier to be representative.
        for (ImagePreprocessor variant : variants.values()) {
            long warmUntil = System.nanoTime() + 2_000_000_000L;
            for (int i = 0; System.nanoTime() < warmUntil; i++) {
                variant.preprocess(jpegs.get(i % jpegs.size()), values);
            }
        }
        // Rounds interleaved across the variants, so machine noise hits all of them alike.
        Map<String, List<Double>> ms = new LinkedHashMap<>();
        for (int r = 0; r < options.rounds(); r++) {
            for (var variant : variants.entrySet()) {
                long t0 = System.nanoTime();
                for (int i = 0; i < perRound; i++) {
                    variant.getValue().preprocess(jpegs.get(i % jpegs.size()), values);
                }
                ms.computeIfAbsent(variant.getKey(), k -> new ArrayList<>())
                        .add((System.nanoTime() - t0) / 1e6 / perRound);
            }
        }
        for (var variant : ms.entrySet()) {
            out.printf("  %4d×%-4d JPEG (%4d KB)%-38s %s%n", size[0], size[1], jpegs.get(0).length / 1024,
                    variant.getKey() + ":", Samples.of(variant.getValue()).format("ms"));
        }
    }

    private void inference(BenchModel benchModel) throws Exception {
        ResNetGenerator.Architecture arch = benchModel.architecture();
        Path modelFile = benchModel.ensure();
        List<byte[]> small = jpegs(224, 224, 32);
        List<byte[]> vga = jpegs(640, 480, 32);
        int maxBatch = options.batchSizes().stream().mapToInt(Integer::intValue).max().orElse(8);
        LoadedModel model = LoadedModel.load(modelFile, null, benchModel.name(), new SessionSettings(options.threads()));
        ImagePreprocessor preprocessor = new ImagePreprocessor(PreprocessRecipe.IMAGENET,
                new ImageDecoder(ImageLimits.defaults()));
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        List<String> paths = new ArrayList<>(List.of(PATHS));
        if (options.sideModel()) {
            paths.add(SIDE_MODEL_PATH);
        }
        try (LabelingEngine engine = new LabelingEngine(model, preprocessor, 5, Scores.OutputKind.AUTO,
                options.threads());
             LabelingEngine withSide = options.sideModel() ? engineWithSideModel(modelFile, benchModel, preprocessor)
                     : null;
             OrtSession.SessionOptions sessionOptions = new SessionSettings(options.threads()).toOrtOptions(
                     OrtSession.SessionOptions.OptLevel.ALL_OPT, options.threads())) {
            try (OrtSession bare = env.createSession(modelFile.toString(), sessionOptions)) {
                out.printf("%s (generated weights), images per second:%n", benchModel.name());
                out.println(header(paths));
                Map<Integer, List<List<ThroughputLoops.Measured>>> costs = new LinkedHashMap<>();
                for (int batch : options.batchSizes()) {
                    // Real preprocessed data in both paths, so no input is special-cased.
                    float[] values = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
                    FloatBuffer bareInput = ByteBuffer.allocateDirect(batch * values.length * 4)
                            .order(ByteOrder.nativeOrder()).asFloatBuffer();
                    TensorBatch tensors = model.inferencePool().allocateBatch(maxBatch);
                    for (int i = 0; i < batch; i++) {
                        preprocessor.preprocess(vga.get(i), values);
                        bareInput.put(i * values.length, values);
                        tensors.write(i, values);
                    }
                    int perRound = Math.max(batch, (int) (96 / arch.relativeCost())
                            / batch * batch);
                    List<List<ThroughputLoops.Measured>> series = new ArrayList<>();
                    for (int i = 0; i < paths.size(); i++) {
                        series.add(new ArrayList<>());
                    }
                    try (OnnxTensor input = OnnxTensor.createTensor(env, bareInput, new long[] {batch, 3, 224, 224})) {
                        for (int r = 0; r < options.rounds() + 1; r++) {
                            var b = rate(perRound, batch, () -> {
                                try (OrtSession.Result result = bare.run(Map.of("input", input))) {
                                    ((OnnxTensor) result.get(0)).getFloatBuffer();
                                }
                            });
                            var t = rate(perRound, batch, () -> {
                                float[] raw = model.inferencePool().run(tensors, batch);
                                for (int i = 0; i < batch; i++) {
                                    Scores.topK(Scores.probabilities(raw, i * 1000, 1000, Scores.OutputKind.AUTO), 5);
                                }
                            });
                            int[] next = {0};
                            var s = rate(perRound, batch, () -> engine.label(ThroughputLoops.slice(small, next, batch)));
                            var v = rate(perRound, batch, () -> engine.label(ThroughputLoops.slice(vga, next, batch)));
                            // As the pipeline drives it: the next batch is decoded while this one is inferred.
                            var o = ThroughputLoops.engine(engine, vga, batch, perRound / batch, 2);
                            List<ThroughputLoops.Measured> round = new ArrayList<>(List.of(b, t, s, v, o));
                            if (withSide != null) {
                                round.add(rate(perRound, batch, () -> withSide.label(
                                        ThroughputLoops.slice(vga, next, batch))));
                            }
                            if (r > 0) { // the first round warms up
                                for (int i = 0; i < paths.size(); i++) {
                                    series.get(i).add(round.get(i));
                                }
                            }
                        }
                    }
                    out.println(row(batch, series, ThroughputLoops.Measured::imagesPerSecond, false));
                    costs.put(batch, series);
                }
                // CPU per image: this process's CPU (all threads, ONNX Runtime's included) ÷ images, so the ratio
                // says what fraction of what labelstream's engine spends per image the bare model alone needs.
                out.printf("%n%s, CPU ms per image (process CPU time ÷ images; ratio = bare ÷ this, per round):%n",
                        benchModel.name());
                out.println(header(paths));
                costs.forEach((batch, series) -> out.println(row(batch, series,
                        ThroughputLoops.Measured::cpuMsPerImage, true)));
                if (options.sideModel()) {
                    costs.forEach((batch, series) -> out.println(sideModelCost(batch, series)));
                }
                out.println();
            }
        }
    }

    /** What {@link #inference} measures per round, in this order; the first is the baseline of every ratio. */
    private static final String[] PATHS = {"bare ORT (ceiling)", "engine, tensors", "engine, 224² JPEG",
            "engine, 640×480 JPEG", "640×480, 2 in flight"};
    private static final String SIDE_MODEL_PATH = "640×480 + side model";
    private static final int ENGINE_TENSORS = 1;
    private static final int ENGINE_VGA = 3;
    private static final int WITH_SIDE_MODEL = PATHS.length;

    /** The engine with a second session of the same model as its side model: what models.extra runs. */
    private LabelingEngine engineWithSideModel(Path modelFile, BenchModel benchModel, ImagePreprocessor preprocessor)
            throws Exception {
        LabelingEngine engine = new LabelingEngine(LoadedModel.load(modelFile, null, benchModel.name(),
                new SessionSettings(options.threads())), preprocessor, 5, Scores.OutputKind.AUTO, options.threads());
        engine.addSideModel("side", LoadedModel.load(modelFile, null, "side", new SessionSettings(options.threads())),
                5);
        return engine;
    }

    /**
     * What the side model added per image (CPU with it − without, 640×480 JPEGs) against what its inference alone
     * costs (the engine's pre-made-tensor path): 1.0 means it paid for its inference only, its images decoded once.
     */
    private static String sideModelCost(int batch, List<List<ThroughputLoops.Measured>> series) {
        List<Double> extra = new ArrayList<>();
        List<Double> ratios = new ArrayList<>();
        for (int r = 0; r < series.get(0).size(); r++) {
            double added = series.get(WITH_SIDE_MODEL).get(r).cpuMsPerImage()
                    - series.get(ENGINE_VGA).get(r).cpuMsPerImage();
            extra.add(added);
            ratios.add(added / series.get(ENGINE_TENSORS).get(r).cpuMsPerImage());
        }
        return String.format("  batch %d: a side model adds %s CPU ms per image, %.3f × its inference alone (engine,"
                + " tensors); decode and preprocess are not paid again", batch, Samples.of(extra).format(""),
                Samples.of(ratios).median());
    }

    private static String header(List<String> paths) {
        StringBuilder line = new StringBuilder(String.format("  %-5s  %-24s", "batch", paths.get(0)));
        for (int i = 1; i < paths.size(); i++) {
            line.append(String.format("  %-24s %-6s", paths.get(i), "ratio"));
        }
        return line.toString();
    }

    /**
     * One batch size's row: each path's median (min–max) of {@code figure} and its ratio to the bare loop's,
     * bare ÷ path when {@code bareOverPath} (a cost, where less is better), else path ÷ bare (a speed).
     */
    private static String row(int batch, List<List<ThroughputLoops.Measured>> series,
                              java.util.function.ToDoubleFunction<ThroughputLoops.Measured> figure,
                              boolean bareOverPath) {
        List<Double> bare = series.get(0).stream().map(figure::applyAsDouble).toList();
        StringBuilder line = new StringBuilder(String.format("  %-5d  %-24s", batch, Samples.of(bare).format("")));
        for (int i = 1; i < series.size(); i++) {
            List<Double> path = series.get(i).stream().map(figure::applyAsDouble).toList();
            line.append(String.format("  %-24s %-6s", Samples.of(path).format(""),
                    bareOverPath ? ratio(bare, path) : ratio(path, bare)));
        }
        return line.toString();
    }

    /** Median of the per-round ratios: each round's figures were measured back to back. */
    private static String ratio(List<Double> candidate, List<Double> baseline) {
        List<Double> ratios = new ArrayList<>();
        for (int i = 0; i < candidate.size(); i++) {
            ratios.add(candidate.get(i) / baseline.get(i));
        }
        return String.format("%.3f", Samples.of(ratios).median());
    }

    private interface Step {
        void run() throws Exception;
    }

    private static ThroughputLoops.Measured rate(int images, int batch, Step step) throws Exception {
        long cpu0 = ThroughputLoops.cpuNanos();
        long t0 = System.nanoTime();
        for (int done = 0; done < images; done += batch) {
            step.run();
        }
        return ThroughputLoops.Measured.since(images, t0, cpu0);
    }

    private static List<byte[]> jpegs(int w, int h, int count) {
        List<byte[]> list = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            list.add(SyntheticImages.jpeg(w, h, 5000 + i));
        }
        return list;
    }
}
