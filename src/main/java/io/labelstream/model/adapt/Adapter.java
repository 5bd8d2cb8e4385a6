package io.labelstream.model.adapt;

import ai.onnx.proto.OnnxMl.ModelProto;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.ModelException;
import io.labelstream.model.ModelFiles;
import io.labelstream.model.ModelInput;
import io.labelstream.model.ModelMetadata;
import io.labelstream.model.OnnxClassifier;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Transfer learning inside labelstream: a pretrained classifier's features, computed through the preprocessing the
 * pipeline will run, with a new linear head trained on the user's labeled folders, written as one ONNX model
 * (backbone up to the features, then the head) with its labels file beside it. The order: read the folders,
 * preprocess, cut ({@link FeatureCut}), extract ({@link FeatureExtractor}), split, fit with early stopping on the
 * holdout ({@link SoftmaxRegression}), compare with {@link NearestCentroid}, refit on every image, write, and label
 * the evaluation folder with the written model as {@code classify} would.
 */
public final class Adapter {

    /** Custom metadata key holding the one-line summary that joins the model's version in output records. */
    private static final String SUMMARY_KEY = ModelMetadata.ADAPT;

    /**
     * @param holdout     fraction of each class held out to stop on, in [0, 0.9]
     * @param featureNode node or tensor to cut at, or null to find the classifier's input
     * @param seed        for the holdout split
     */
    public record Options(double holdout, String featureNode, long seed, double l2, int maxIterations) {

        public Options {
            if (!(holdout >= 0 && holdout <= 0.9)) {
                throw new IllegalArgumentException("--holdout must be in [0, 0.9], got " + holdout);
            }
            new SoftmaxRegression.Options(l2, maxIterations, 1);
        }

        public static Options defaults() {
            SoftmaxRegression.Options fit = SoftmaxRegression.Options.defaults();
            return new Options(0.2, null, 42, fit.l2(), fit.maxIterations());
        }

        SoftmaxRegression.Options fit() {
            return new SoftmaxRegression.Options(l2, maxIterations, SoftmaxRegression.Options.defaults().patience());
        }
    }

    /**
     * @param holdout          the head trained without the holdout, on the holdout; null with --holdout 0
     * @param centroidHoldout  the nearest-centroid baseline on the same split; null with --holdout 0
     * @param evaluation       the written model on the evaluation folder, labeled as the pipeline does; or null
     * @param centroidEvaluation the baseline fitted on every training image, on the evaluation folder; or null
     */
    public record Result(Path model, Path labels, String summary, String sourceSha256, String trainingSha256,
                         String features, int featureCount, int images, int[] imagesPerClass, List<String> skipped,
                         int iterations, ConfusionMatrix holdout, ConfusionMatrix centroidHoldout,
                         ConfusionMatrix evaluation, ConfusionMatrix centroidEvaluation, List<String> evaluationSkipped) {
    }

    private Adapter() {
    }

    /** The labels file written beside {@code model}: {@code x.onnx} → {@code x.labels.txt}. */
    public static Path labelsFileFor(Path model) {
        String name = model.getFileName().toString();
        String stem = name.endsWith(".onnx") ? name.substring(0, name.length() - 5) : name;
        return model.resolveSibling(stem + ".labels.txt");
    }

    /**
     * @param config the settings the pipeline will run the result with: model.path is the pretrained source;
     *               preprocess.* and image.* apply
     * @param evaluation class folders to label with the written model, or null
     */
    public static Result adapt(LabelstreamConfig config, LabeledImages training, Path out, Options options,
                               LabeledImages evaluation) throws ModelException, IOException {
        Path source = Path.of(config.get(Settings.MODEL_PATH));
        ModelProto model;
        try (InputStream in = Files.newInputStream(source)) {
            model = ModelProto.parseFrom(in);
        }
        ModelInput input = OnnxClassifier.readInput(source);
        if (input.elementType() != ModelInput.ElementType.FLOAT32) {
            throw new ModelException("the model's input is " + input.elementType() + "; model adapt takes float32"
                    + " inputs");
        }
        ImagePreprocessor preprocessor = EngineFactory.preprocessor(config, input);
        if (preprocessor.recipe().cropWidth() != input.width() || preprocessor.recipe().cropHeight() != input.height()) {
            throw new ModelException("preprocess.crop gives " + preprocessor.recipe().cropWidth() + "×"
                    + preprocessor.recipe().cropHeight() + " but the model takes " + input.width() + "×"
                    + input.height() + " (" + input + "); set --preset or -s preprocess.crop");
        }

        List<String> labels = training.labels();
        FeatureCut.Backbone backbone = FeatureCut.cut(model, options.featureNode());
        Prepared train;
        Prepared eval;
        try (FeatureExtractor extractor = new FeatureExtractor(backbone.backbone(), input)) {
            train = prepare(preprocessor, extractor, training, false);
            eval = evaluation == null ? null : prepare(preprocessor, extractor, evaluation, true);
        }
        if (train.features.isEmpty()) {
            throw new ModelException("none of the " + training.files().size() + " training images could be used: "
                    + String.join("; ", train.skipped));
        }
        int[] perClass = new int[labels.size()];
        for (int t : train.truth) {
            perClass[t]++;
        }
        for (int c = 0; c < labels.size(); c++) {
            if (perClass[c] == 0) {
                throw new ModelException("class '" + labels.get(c) + "' has no usable training image");
            }
            if (options.holdout() > 0 && perClass[c] < 2) {
                throw new ModelException("class '" + labels.get(c) + "' has 1 usable training image; a holdout needs"
                        + " at least 2 per class (add images, or --holdout 0 to train on all without early stopping)");
            }
        }
        float[][] features = train.features.toArray(new float[0][]);
        float[][] evalFeatures = eval == null || eval.features.isEmpty() ? null
                : eval.features.toArray(new float[0][]);
        int[] truth = train.truth.stream().mapToInt(Integer::intValue).toArray();

        ConfusionMatrix holdoutMatrix = null;
        ConfusionMatrix centroidHoldout = null;
        int iterations = options.maxIterations();
        if (options.holdout() > 0) {
            boolean[] held = stratifiedHoldout(truth, labels.size(), options.holdout(), options.seed());
            float[][] xTrain = select(features, held, false);
            int[] yTrain = select(truth, held, false);
            float[][] xHold = select(features, held, true);
            int[] yHold = select(truth, held, true);
            SoftmaxRegression.Fit fit = SoftmaxRegression.fit(xTrain, yTrain, labels.size(), options.fit(), xHold,
                    yHold);
            iterations = Math.max(1, fit.iterations());
            holdoutMatrix = ConfusionMatrix.of(labels, yHold, predict(fit.head(), xHold));
            NearestCentroid centroid = NearestCentroid.fit(xTrain, yTrain, labels.size());
            centroidHoldout = ConfusionMatrix.of(labels, yHold, predict(centroid, xHold));
        }
        // The holdout chose how long to train; the head that ships learns from every image for that long.
        Head head = SoftmaxRegression.fit(features, truth, labels.size(), options.fit().withMaxIterations(iterations),
                null, null).head();

        String sourceSha = LoadedModel.sha256(source);
        String summary = "adapt-" + labels.size() + "cls-" + truth.length + "img-" + train.sha256.substring(0, 8);
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put(SUMMARY_KEY, summary);
        meta.put(SUMMARY_KEY + ".source_sha256", sourceSha);
        meta.put(SUMMARY_KEY + ".training_sha256", train.sha256);
        meta.put(SUMMARY_KEY + ".training_images", Integer.toString(truth.length));
        meta.put(SUMMARY_KEY + ".features", backbone.tensor() + " (" + head.features() + ")");
        meta.put(SUMMARY_KEY + ".head", "Gemm, multinomial logistic regression, class-balanced, l2 " + options.l2()
                + ", " + iterations + " iterations" + (holdoutMatrix == null ? ""
                : String.format(", holdout %.3f", holdoutMatrix.accuracy())));
        meta.put(SUMMARY_KEY + ".recipe", preprocessor.recipe().name() + " " + preprocessor.recipeHash());
        ModelProto written = ModelFiles.withMetadata(head.attachTo(backbone.backbone()), meta, "model adapt");
        Path labelsFile = labelsFileFor(out);
        ModelFiles.writeAtomically(written, out);
        ModelFiles.writeTextAtomically(String.join("\n", labels) + "\n", labelsFile);

        ConfusionMatrix evalMatrix = null;
        ConfusionMatrix centroidEval = null;
        if (evalFeatures != null) {
            int[] evalTruth = eval.truth.stream().mapToInt(Integer::intValue).toArray();
            evalMatrix = ConfusionMatrix.of(labels, evalTruth, labelWithWrittenModel(config, out, labelsFile, eval));
            centroidEval = ConfusionMatrix.of(labels, evalTruth,
                    predict(NearestCentroid.fit(features, truth, labels.size()), evalFeatures));
        }
        return new Result(out, labelsFile, summary, sourceSha, train.sha256, backbone.description(), head.features(),
                truth.length, perClass, train.skipped, iterations, holdoutMatrix, centroidHoldout, evalMatrix,
                centroidEval, eval == null ? List.of() : eval.skipped);
    }

    /** The written model, loaded as the pipeline loads it, on the evaluation images: its top-1 per image. */
    private static int[] labelWithWrittenModel(LabelstreamConfig config, Path model, Path labelsFile, Prepared eval)
            throws ModelException {
        LabelstreamConfig adapted = config.with(Settings.MODEL_PATH.key(), model.toString())
                .with(Settings.MODEL_LABELS_PATH.key(), labelsFile.toString());
        int[] predicted = new int[eval.bytes.size()];
        try (LabelingEngine engine = EngineFactory.create(adapted)) {
            for (int start = 0; start < eval.bytes.size(); start += 8) {
                List<ImageOutcome> outcomes = engine.label(eval.bytes.subList(start,
                        Math.min(eval.bytes.size(), start + 8))).outcomes();
                for (int i = 0; i < outcomes.size(); i++) {
                    if (!(outcomes.get(i) instanceof ImageOutcome.Labeled labeled)) {
                        throw new ModelException("the written model did not label evaluation image "
                                + eval.names.get(start + i) + ": " + outcomes.get(i));
                    }
                    predicted[start + i] = labeled.top().get(0).index();
                }
            }
        }
        return predicted;
    }

    /** Images as features, the bytes of those kept for labeling, and which images could not be used. */
    private record Prepared(List<float[]> features, List<byte[]> bytes, List<String> names, List<Integer> truth,
                            List<String> skipped, String sha256) {
    }

    /** Tensors wait for the backbone in chunks this large, so that only features stay in memory. */
    private static final int CHUNK = 64;

    private static Prepared prepare(ImagePreprocessor preprocessor, FeatureExtractor extractor, LabeledImages images,
                                    boolean keepBytes) throws IOException, ModelException {
        MessageDigest digest = sha256();
        List<float[]> features = new ArrayList<>();
        List<float[]> pending = new ArrayList<>();
        List<byte[]> bytes = new ArrayList<>();
        List<String> names = new ArrayList<>();
        List<Integer> truth = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int values = preprocessor.recipe().cropWidth() * preprocessor.recipe().cropHeight() * 3;
        for (int i = 0; i < images.files().size(); i++) {
            Path file = images.files().get(i);
            byte[] data = Files.readAllBytes(file);
            float[] tensor = new float[values];
            try {
                preprocessor.preprocess(data, tensor);
            } catch (ImageRejectedException e) {
                skipped.add(file + ": " + e.getMessage());
                continue;
            }
            pending.add(tensor);
            if (pending.size() == CHUNK) {
                features.addAll(List.of(extractor.features(pending)));
                pending.clear();
            }
            if (keepBytes) {
                bytes.add(data);
            }
            names.add(file.toString());
            int label = images.truth()[i];
            truth.add(label);
            // The digest covers each image used and its label, in order: the same folders give the same digest.
            digest.update((images.labels().get(label) + "\n").getBytes(StandardCharsets.UTF_8));
            digest.update(sha256().digest(data));
        }
        if (!pending.isEmpty()) {
            features.addAll(List.of(extractor.features(pending)));
        }
        return new Prepared(features, bytes, names, truth, skipped, HexFormat.of().formatHex(digest.digest()));
    }

    /**
     * Which images are held out: in each class, {@code fraction} of its images (at least one, never all), drawn
     * with {@code seed}, so that every class is both trained on and tested.
     */
    static boolean[] stratifiedHoldout(int[] truth, int classes, double fraction, long seed) {
        boolean[] held = new boolean[truth.length];
        Random random = new Random(seed);
        for (int c = 0; c < classes; c++) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < truth.length; i++) {
                if (truth[i] == c) {
                    members.add(i);
                }
            }
            java.util.Collections.shuffle(members, random);
            int n = (int) Math.round(members.size() * fraction);
            n = Math.max(1, Math.min(members.size() - 1, n));
            for (int i = 0; i < n; i++) {
                held[members.get(i)] = true;
            }
        }
        return held;
    }

    private static float[][] select(float[][] x, boolean[] held, boolean which) {
        List<float[]> out = new ArrayList<>();
        for (int i = 0; i < x.length; i++) {
            if (held[i] == which) {
                out.add(x[i]);
            }
        }
        return out.toArray(new float[0][]);
    }

    private static int[] select(int[] y, boolean[] held, boolean which) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < y.length; i++) {
            if (held[i] == which) {
                out.add(y[i]);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    private static int[] predict(Head head, float[][] x) {
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = head.predict(x[i]);
        }
        return out;
    }

    private static int[] predict(NearestCentroid centroid, float[][] x) {
        int[] out = new int[x.length];
        for (int i = 0; i < x.length; i++) {
            out[i] = centroid.predict(x[i]);
        }
        return out;
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
