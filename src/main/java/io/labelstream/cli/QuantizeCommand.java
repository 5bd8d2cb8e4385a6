package io.labelstream.cli;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ImageFiles;
import io.labelstream.model.ModelException;
import io.labelstream.model.quantize.AgreementReport;
import io.labelstream.model.quantize.CalibrationMethod;
import io.labelstream.model.quantize.Quantizer;
import io.labelstream.model.quantize.WeightRange;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "quantize", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Writes an int8 copy of an fp32 ONNX classifier (static post-training quantization, QDQ"
                + " format: uint8 activations, int8 per-channel weights, int32 bias), calibrated on your images"
                + " through the preprocessing 'run' will use, then compares it with the fp32 model. Exits 1 when"
                + " nothing could be written, 3 when top-1 agreement is below 98 %.", "",
                "Examples:",
                "  labelstream model quantize --model resnet50.onnx --calibration photos/ --out resnet50-int8.onnx",
                "  labelstream model quantize --model cifar.onnx --preset cifar10 --labels labels.txt \\",
                "      --calibration train/ --max-images 50 --eval test/ --out cifar-int8.onnx"})
final class QuantizeCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "IN.onnx", description = "The fp32 model.")
    Path model;

    @Option(names = "--calibration", required = true, arity = "1..*", paramLabel = "DIR|FILE",
            description = "Calibration images: files, or folders searched recursively.")
    List<Path> calibration;

    @Option(names = "--out", required = true, paramLabel = "OUT.onnx", description = "Where to write the int8 model.")
    Path out;

    @picocli.CommandLine.Mixin
    RecipeOptions recipe = new RecipeOptions();

    @Option(names = {"-l", "--labels"}, paramLabel = "FILE", description = "Class names, for the report.")
    Path labels;

    @Option(names = "--method", defaultValue = "minmax", paramLabel = "minmax|percentile|entropy",
            description = "Activation range: observed min/max, a percentile of |x|, or least KL divergence"
                    + " (default ${DEFAULT-VALUE}).")
    String method;

    @Option(names = "--percentile", defaultValue = "99.999", paramLabel = "X",
            description = "For --method percentile (default ${DEFAULT-VALUE}).")
    double percentile;

    @Option(names = "--max-images", defaultValue = "256", paramLabel = "N",
            description = "Calibration images used at most, spread over the sorted list (default ${DEFAULT-VALUE}).")
    int maxImages;

    @Option(names = "--exclude", split = ",", paramLabel = "NODE|OP",
            description = "Node names or op types to keep in float, comma-separated.")
    List<String> exclude = List.of();

    @Option(names = "--weight-range", defaultValue = "portable", paramLabel = "portable|full",
            description = "portable: weights in [-64, 64], right on every CPU; full: [-127, 127], finer, but wrong"
                    + " sums on x86 CPUs without VNNI, whose int8 kernels saturate (default ${DEFAULT-VALUE}).")
    String weightRange;

    @Option(names = "--eval", paramLabel = "DIR", description = "Held-out images to compare on as well.")
    Path eval;

    @Override
    public Integer call() throws Exception {
        CalibrationMethod calibrationMethod;
        Quantizer.Options options;
        try {
            calibrationMethod = CalibrationMethod.parse(method);
            options = new Quantizer.Options(calibrationMethod, percentile, maxImages, new LinkedHashSet<>(exclude),
                    WeightRange.parse(weightRange));
        } catch (IllegalArgumentException e) {
            System.err.println("labelstream: " + e.getMessage());
            return 2;
        }
        Map<String, String> values = recipe.values(model);
        if (labels != null) {
            values.put(Settings.MODEL_LABELS_PATH.key(), labels.toString());
        }
        if (!Files.isRegularFile(model)) {
            System.err.println("labelstream: --model: no such file: " + model);
            return 2;
        }
        List<Path> calibrationFiles;
        List<Path> evaluationFiles;
        try {
            calibrationFiles = existingImages(calibration, "--calibration");
            evaluationFiles = eval == null ? List.of() : existingImages(List.of(eval), "--eval");
        } catch (IllegalArgumentException e) {
            System.err.println("labelstream: " + e.getMessage());
            return 2;
        }
        LabelstreamConfig config = LabelstreamConfig.load(null, System.getenv(), values);
        long start = System.nanoTime();
        Quantizer.Result result;
        try {
            result = Quantizer.quantize(config, calibrationFiles, out, options, evaluationFiles);
        } catch (ModelException | ConfigException | IOException e) {
            System.err.println("labelstream: cannot quantize " + model + ": " + e.getMessage());
            return 1;
        }
        result.skippedImages().forEach(s -> System.err.println("skipped calibration image " + s));
        System.out.printf("Wrote %s (%.1f MB, sha256 %s) in %.1f s%n", out, Files.size(out) / 1e6,
                io.labelstream.model.LoadedModel.sha256(out), (System.nanoTime() - start) / 1e9);
        System.out.printf("  %s, from %s (sha256 %s)%n", result.summary(), model, result.sourceSha256());
        System.out.printf("  calibrated on %d images (sha256 %s), method %s%n", result.calibrationImages(),
                result.calibrationSha256(), calibrationMethod.id()
                        + (calibrationMethod == CalibrationMethod.PERCENTILE ? " " + percentile : "")
                        + ", weights " + options.weightRange().id());
        System.out.printf("  quantized nodes: %s%s%n", result.quantizedByOp(), result.excluded().isEmpty() ? ""
                : "; kept in float: " + result.excluded());
        boolean warn = false;
        for (AgreementReport report : new AgreementReport[] {result.calibration(), result.evaluation()}) {
            if (report != null) {
                report.lines().forEach(System.out::println);
                warn |= report.belowWarningLevel();
            }
        }
        return warn ? 3 : 0;
    }

    private static List<Path> existingImages(List<Path> inputs, String option) throws IOException {
        for (Path p : inputs) {
            if (!Files.exists(p)) {
                throw new IllegalArgumentException(option + ": no such file or folder: " + p);
            }
        }
        List<Path> files = ImageFiles.expand(inputs);
        if (files.isEmpty()) {
            throw new IllegalArgumentException(option + ": no image files in " + inputs);
        }
        return files;
    }
}
