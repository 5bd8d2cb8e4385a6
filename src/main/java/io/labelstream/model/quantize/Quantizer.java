package io.labelstream.model.quantize;

import ai.onnx.proto.OnnxMl.ModelProto;
import ai.onnx.proto.OnnxMl.NodeProto;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.ModelException;
import io.labelstream.model.ModelInput;
import io.labelstream.model.ModelMetadata;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Static post-training quantization of an fp32 classifier to the QDQ int8 form ONNX Runtime's CPU provider fuses
 * into int8 kernels, calibrated on the user's images through exactly the preprocessing the pipeline runs: prepare
 * the graph ({@link FloatGraphPreparation}), choose what to quantize ({@link QdqPlan}), measure the activations
 * ({@link Calibrator}), rewrite ({@link QdqRewriter}), and compare the result with the fp32 model
 * ({@link AgreementReport}).
 */
public final class Quantizer {

    /** Custom metadata key holding the one-line summary that joins the model's version in output records. */
    private static final String SUMMARY_KEY = ModelMetadata.QUANTIZATION;

    /**
     * @param exclude node names or op types kept in float
     */
    public record Options(CalibrationMethod method, double percentile, int maxImages, Set<String> exclude,
                          WeightRange weightRange) {

        public Options {
            if (maxImages < 1) {
                throw new IllegalArgumentException("--max-images must be at least 1");
            }
            if (!(percentile > 50 && percentile <= 100)) {
                throw new IllegalArgumentException("--percentile must be in (50, 100], got " + percentile);
            }
        }

        public static Options defaults() {
            return new Options(CalibrationMethod.MINMAX, 99.999, 256, Set.of(), WeightRange.PORTABLE);
        }
    }

    /** Calibration images as read: their bytes' digest, and those that could not be used, with why. */
    public record CalibrationSet(List<float[]> tensors, String sha256, List<String> skipped) {
    }

    public record Result(Path model, String summary, int calibrationImages, String calibrationSha256,
                         String sourceSha256, Map<String, Integer> quantizedByOp, List<String> skippedImages,
                         List<String> excluded, AgreementReport calibration, AgreementReport evaluation) {
    }

    private Quantizer() {
    }

    /**
     * @param config     the settings the pipeline will run with (model.path is the fp32 source; preprocess.*,
     *                   model.labels.path and image.* apply)
     * @param evaluation held-out images to compare on as well; may be empty
     */
    public static Result quantize(LabelstreamConfig config, List<Path> calibrationFiles, Path out, Options options,
                                  List<Path> evaluation) throws ModelException, IOException {
        List<byte[]> calibrationBytes = new ArrayList<>();
        List<String> calibrationNames = new ArrayList<>();
        for (Path p : sample(calibrationFiles, options.maxImages())) {
            calibrationBytes.add(Files.readAllBytes(p));
            calibrationNames.add(p.toString());
        }
        List<byte[]> held = new ArrayList<>();
        for (Path p : evaluation) {
            held.add(Files.readAllBytes(p));
        }
        return quantize(config, calibrationBytes, calibrationNames, out, options, held);
    }

    /**
     * @param calibrationNames how to name each calibration image in messages
     * @param evaluation       encoded held-out images; may be empty
     */
    public static Result quantize(LabelstreamConfig config, List<byte[]> calibrationBytes,
                                  List<String> calibrationNames, Path out, Options options, List<byte[]> evaluation)
            throws ModelException, IOException {
        Path source = Path.of(config.get(Settings.MODEL_PATH));
        ModelProto model;
        try (InputStream in = Files.newInputStream(source)) {
            model = ModelProto.parseFrom(in);
        }
        try (LabelingEngine fp32 = EngineFactory.create(config)) {
            ModelInput input = fp32.primaryModel().input();
            if (input.elementType() != ModelInput.ElementType.FLOAT32) {
                throw new ModelException("the model's input is " + input.elementType()
                        + "; only fp32 models can be quantized");
            }
            CalibrationSet calibration = preprocess(EngineFactory.preprocessor(config, input), calibrationBytes,
                    calibrationNames);
            if (calibration.tensors().isEmpty()) {
                throw new ModelException("none of the " + calibrationBytes.size() + " calibration images could be used: "
                        + String.join("; ", calibration.skipped()));
            }
            String sourceSha = LoadedModel.sha256(source);
            Quantized result = quantize(model, calibration.tensors(), input, options);
            ModelProto quantized = result.model();
            String summary = "int8-" + (options.weightRange() == WeightRange.FULL ? "full-" : "")
                    + options.method().id() + "-" + calibration.tensors().size() + "img-"
                    + calibration.sha256().substring(0, 8);
            quantized = withMetadata(quantized, summary, options, calibration, sourceSha);
            io.labelstream.model.ModelFiles.writeAtomically(quantized, out);

            Map<String, Integer> byOp = new TreeMap<>();
            QdqPlan plan = result.plan();
            for (NodeProto n : plan.nodes.keySet()) {
                byOp.merge(n.getOpType(), 1, Integer::sum);
            }
            try (LabelingEngine int8 = EngineFactory.create(config.with(Settings.MODEL_PATH.key(), out.toString()))) {
                AgreementReport onCalibration = compare("calibration images", fp32, int8, calibrationBytes);
                AgreementReport onEvaluation = evaluation.isEmpty() ? null
                        : compare("evaluation images", fp32, int8, evaluation);
                return new Result(out, summary, calibration.tensors().size(), calibration.sha256(), sourceSha, byOp,
                        calibration.skipped(), List.copyOf(plan.excludedSeen), onCalibration, onEvaluation);
            }
        }
    }

    /** A quantized model and the plan it was written from. */
    record Quantized(ModelProto model, QdqPlan plan) {
    }

    /** The quantization itself, on images already preprocessed for {@code input}. */
    static Quantized quantize(ModelProto model, List<float[]> images, ModelInput input, Options options)
            throws ModelException {
        ModelProto prepared = FloatGraphPreparation.prepare(model);
        QdqPlan plan = QdqPlan.of(prepared.getGraph(), options.exclude());
        if (plan.nodes.isEmpty()) {
            throw new ModelException("nothing in the model can be quantized (no Conv, Gemm or MatMul with constant"
                    + " weights, no Add, pooling or Concat of activations outside the excluded nodes)");
        }
        Map<String, double[]> ranges = Calibrator.ranges(prepared, plan.tensorsToCalibrate(), images, input,
                options.method(), options.percentile());
        return new Quantized(prepared.toBuilder().setGraph(QdqRewriter.rewrite(prepared.getGraph(), plan, ranges,
                options.weightRange())).build(), plan);
    }

    /**
     * At most {@code max} files, spread evenly over the sorted list rather than its first ones, so that a folder
     * sorted by class gives every class its share.
     */
    static List<Path> sample(List<Path> files, int max) {
        List<Path> sorted = files.stream().sorted().toList();
        if (sorted.size() <= max) {
            return sorted;
        }
        List<Path> picked = new ArrayList<>();
        for (int i = 0; i < max; i++) {
            picked.add(sorted.get((int) ((long) i * sorted.size() / max)));
        }
        return picked;
    }

    static CalibrationSet preprocess(ImagePreprocessor preprocessor, List<byte[]> images, List<String> names) {
        MessageDigest digest = sha256();
        List<float[]> tensors = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int values = preprocessor.recipe().cropWidth() * preprocessor.recipe().cropHeight() * 3;
        for (int i = 0; i < images.size(); i++) {
            float[] tensor = new float[values];
            try {
                preprocessor.preprocess(images.get(i), tensor);
            } catch (ImageRejectedException e) {
                skipped.add(names.get(i) + ": " + e.getMessage());
                continue;
            }
            tensors.add(tensor);
            // The digest is of the image files used, in order: the same folder gives the same digest.
            digest.update(sha256().digest(images.get(i)));
        }
        return new CalibrationSet(tensors, HexFormat.of().formatHex(digest.digest()), skipped);
    }

    private static AgreementReport compare(String name, LabelingEngine fp32, LabelingEngine int8, List<byte[]> images) {
        List<ImageOutcome> a = new ArrayList<>();
        List<ImageOutcome> b = new ArrayList<>();
        for (int start = 0; start < images.size(); start += 8) {
            List<byte[]> chunk = images.subList(start, Math.min(images.size(), start + 8));
            a.addAll(fp32.label(chunk).outcomes());
            b.addAll(int8.label(chunk).outcomes());
        }
        return AgreementReport.compare(name, a, b, fp32.primaryModel().labels());
    }

    private static ModelProto withMetadata(ModelProto model, String summary, Options options,
                                           CalibrationSet calibration, String sourceSha) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SUMMARY_KEY, summary);
        meta.put(SUMMARY_KEY + ".format", "QDQ: uint8 activations per tensor, int8 symmetric weights per channel"
                + " in [-" + options.weightRange().maxLevel + ", " + options.weightRange().maxLevel + "], int32 bias");
        meta.put(ModelMetadata.QUANTIZATION_WEIGHT_RANGE, options.weightRange().id());
        meta.put(SUMMARY_KEY + ".method", options.method().id()
                + (options.method() == CalibrationMethod.PERCENTILE ? " " + options.percentile() : ""));
        meta.put(SUMMARY_KEY + ".calibration_images", Integer.toString(calibration.tensors().size()));
        meta.put(SUMMARY_KEY + ".calibration_sha256", calibration.sha256());
        meta.put(SUMMARY_KEY + ".source_sha256", sourceSha);
        if (!options.exclude().isEmpty()) {
            meta.put(SUMMARY_KEY + ".excluded", String.join(",", new java.util.TreeSet<>(options.exclude())));
        }
        return io.labelstream.model.ModelFiles.withMetadata(model, meta, "model quantize");
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

}
