package io.labelstream.cli;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.ModelException;
import io.labelstream.model.adapt.Adapter;
import io.labelstream.model.adapt.ConfusionMatrix;
import io.labelstream.model.adapt.LabeledImages;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "adapt", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Trains a new classifier head for your own classes on a pretrained model's features (transfer"
                + " learning) and writes ONE ONNX model: the pretrained backbone up to its penultimate features, then"
                + " the new Gemm head, with its labels file beside it (OUT.labels.txt). The images go through the"
                + " preprocessing 'run' will use. Prints the holdout accuracy, a confusion matrix and a"
                + " nearest-centroid baseline on the same features.", "",
                "TRAIN holds one folder per class, named as the label: TRAIN/cat/1.jpg, TRAIN/dog/7.png, …", "",
                "Examples:",
                "  labelstream model adapt --model resnet50.onnx --train products/ --out products.onnx",
                "  labelstream model adapt --model cifar.onnx --preset cifar10 --train train/ --eval test/ \\",
                "      --out my-cifar.onnx"})
final class AdaptCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "PRETRAINED.onnx",
            description = "The pretrained classifier whose features to use (float or int8).")
    Path model;

    @Option(names = "--train", required = true, paramLabel = "DIR", description = "One folder of images per class.")
    Path train;

    @Option(names = "--out", required = true, paramLabel = "OUT.onnx", description = "Where to write the model.")
    Path out;

    @picocli.CommandLine.Mixin
    RecipeOptions recipe = new RecipeOptions();

    @Option(names = "--holdout", defaultValue = "0.2", paramLabel = "FRACTION",
            description = "Share of each class held out to stop training on (default ${DEFAULT-VALUE}; 0: none).")
    double holdout;

    @Option(names = "--feature-node", paramLabel = "NAME",
            description = "Node or tensor whose output are the features (default: the final classifier's input).")
    String featureNode;

    @Option(names = "--seed", defaultValue = "42", description = "Seed of the holdout split (default ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = "--l2", defaultValue = "0.01", paramLabel = "X",
            description = "L2 strength on standardized features (default ${DEFAULT-VALUE}).")
    double l2;

    @Option(names = "--max-iterations", defaultValue = "2000", paramLabel = "N",
            description = "Training iterations at most (default ${DEFAULT-VALUE}).")
    int maxIterations;

    @Option(names = "--eval", paramLabel = "DIR", description = "Class folders to label with the written model.")
    Path eval;

    @Override
    public Integer call() throws Exception {
        Adapter.Options options;
        LabeledImages training;
        LabeledImages evaluation;
        try {
            options = new Adapter.Options(holdout, featureNode, seed, l2, maxIterations);
            if (!Files.isRegularFile(model)) {
                throw new IllegalArgumentException("--model: no such file: " + model);
            }
            training = LabeledImages.read(train, null, "--train");
            evaluation = eval == null ? null : LabeledImages.read(eval, training.labels(), "--eval");
        } catch (IllegalArgumentException e) {
            System.err.println("labelstream: " + e.getMessage());
            return 2;
        } catch (IOException e) {
            System.err.println("labelstream: cannot read the image folders: " + e.getMessage());
            return 1;
        }
        Map<String, String> values = recipe.values(model);
        long start = System.nanoTime();
        Adapter.Result result;
        try {
            LabelstreamConfig config = LabelstreamConfig.load(null, System.getenv(), values);
            result = Adapter.adapt(config, training, out, options, evaluation);
        } catch (ModelException | ConfigException | IOException e) {
            System.err.println("labelstream: cannot adapt " + model + ": " + e.getMessage());
            return 1;
        }
        result.skipped().forEach(s -> System.err.println("skipped training image " + s));
        result.evaluationSkipped().forEach(s -> System.err.println("skipped evaluation image " + s));
        System.out.printf("Wrote %s (%.1f MB, sha256 %s) and %s in %.1f s%n", out, Files.size(out) / 1e6,
                LoadedModel.sha256(out), result.labels(), (System.nanoTime() - start) / 1e9);
        System.out.printf("  %s, from %s (sha256 %s)%n", result.summary(), model, result.sourceSha256());
        System.out.printf("  features: %s, %d values per image%n", result.features(), result.featureCount());
        StringBuilder perClass = new StringBuilder();
        for (int c = 0; c < training.labels().size(); c++) {
            perClass.append(c == 0 ? "" : ", ").append(training.labels().get(c)).append(' ')
                    .append(result.imagesPerClass()[c]);
        }
        System.out.printf("  trained on %d images (sha256 %s): %s%n", result.images(), result.trainingSha256(),
                perClass);
        System.out.printf("  head: %d iterations%s, then refitted on all %d images%n", result.iterations(),
                result.holdout() == null ? " (no holdout)" : " (best holdout loss)", result.images());
        if (result.holdout() != null) {
            print("holdout", result.holdout(), result.centroidHoldout());
        }
        if (evaluation != null && result.evaluation() == null) {
            System.out.printf("  evaluation (%s): none of its %d images could be used%n", eval,
                    evaluation.files().size());
        }
        if (result.evaluation() != null) {
            print("evaluation (" + eval + ", the written model)", result.evaluation(), result.centroidEvaluation());
        }
        return 0;
    }

    private static void print(String what, ConfusionMatrix head, ConfusionMatrix centroid) {
        System.out.printf("  %s: %d/%d = %.1f %% top-1; nearest-centroid baseline %d/%d = %.1f %%%n", what,
                head.correct(), head.total(), 100 * head.accuracy(), centroid.correct(), centroid.total(),
                100 * centroid.accuracy());
        head.lines().forEach(l -> System.out.println("    " + l));
    }
}
