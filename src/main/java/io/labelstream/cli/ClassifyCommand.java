package io.labelstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.model.DefaultModel;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.BatchOutcome;
import io.labelstream.model.ClassScore;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "classify", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Labels local image files with the engine, without Kafka: the quickest way to check a model "
                + "and a preprocessing recipe. Folders are searched recursively for image files. Exits 1 if any "
                + "file could not be labeled.", "",
                "Examples:",
                "  labelstream classify --model resnet50-v1-7.onnx --labels synset.txt photo.jpg",
                "  labelstream classify --model cifar.onnx --labels labels.txt --preset cifar10 --json images/"})
final class ClassifyCommand implements Callable<Integer> {

    @Option(names = {"-m", "--model"}, paramLabel = "FILE",
            description = "ONNX image classifier (default: a generated, untrained ResNet-18).")
    Path model;

    @Option(names = {"-l", "--labels"}, paramLabel = "FILE", description = "Class names by index.")
    Path labels;

    @Option(names = {"-p", "--preset"}, paramLabel = "NAME", description = "Preprocessing preset: imagenet or cifar10.")
    String preset;

    @Option(names = {"-k", "--top"}, paramLabel = "K", defaultValue = "5", description = "Labels per image (default 5).")
    int top;

    @Option(names = "--json", description = "JSON lines instead of a table.")
    boolean json;

    @Option(names = {"-s", "--set"}, paramLabel = "KEY=VALUE", description = "Any other setting, e.g. -s preprocess.crop=299.")
    Map<String, String> settings = new LinkedHashMap<>();

    @Parameters(paramLabel = "FILE", arity = "1..*", description = "Image files or folders.")
    List<Path> inputs;

    @Override
    public Integer call() throws Exception {
        Map<String, String> values = new LinkedHashMap<>(settings);
        values.put(Settings.MODEL_TOP_K.key(), Integer.toString(top));
        if (preset != null) {
            values.put(Settings.PREPROCESS_PRESET.key(), preset);
        }
        if (labels != null) {
            values.put(Settings.MODEL_LABELS_PATH.key(), labels.toString());
        }
        if (model != null) {
            values.put(Settings.MODEL_PATH.key(), model.toString());
        }
        LabelstreamConfig config = DefaultModel.orGenerated(LabelstreamConfig.of(values), System.err);
        List<Path> files = io.labelstream.image.ImageFiles.expand(inputs);
        if (files.isEmpty()) {
            System.err.println("labelstream: no image files in " + inputs);
            return 2;
        }
        int batchSize = config.get(Settings.MAX_BATCH_SIZE);
        int failures = 0;
        ObjectMapper mapper = new ObjectMapper();
        // A batch gets the time `run` gives one, so a configuration bounds a bad batch's bisection alike in both
        // (and the message of an image not isolated in time names that setting).
        try (LabelingEngine engine = EngineFactory.create(config, Duration.ofMillis(config.transactionTimeoutMs()))) {
            if (!json) {
                System.out.printf("%-40s  %s%n", "FILE", "LABELS (score)");
            }
            for (int start = 0; start < files.size(); start += batchSize) {
                List<Path> chunk = files.subList(start, Math.min(files.size(), start + batchSize));
                List<byte[]> bytes = new ArrayList<>();
                for (Path p : chunk) {
                    bytes.add(Files.readAllBytes(p));
                }
                BatchOutcome result = engine.label(bytes);
                for (int i = 0; i < chunk.size(); i++) {
                    ImageOutcome outcome = result.outcomes().get(i);
                    failures += outcome instanceof ImageOutcome.Rejected ? 1 : 0;
                    System.out.println(json ? jsonLine(mapper, engine, chunk.get(i), outcome)
                            : tableLine(chunk.get(i), outcome));
                }
            }
        }
        return failures == 0 ? 0 : 1;
    }

    private static String tableLine(Path file, ImageOutcome outcome) {
        String shown = file.toString().length() > 40 ? "…" + file.toString().substring(file.toString().length() - 39)
                : file.toString();
        if (outcome instanceof ImageOutcome.Labeled labeled) {
            StringBuilder b = new StringBuilder();
            for (ClassScore l : labeled.top()) {
                b.append(b.length() == 0 ? "" : ", ").append(String.format("%s (%.3f)", l.label(), l.score()));
            }
            return String.format("%-40s  %s", shown, b);
        }
        ImageOutcome.Rejected r = (ImageOutcome.Rejected) outcome;
        return String.format("%-40s  FAILED %s: %s", shown, r.reason(), r.message());
    }

    private static String jsonLine(ObjectMapper mapper, LabelingEngine engine, Path file,
                                   ImageOutcome outcome) throws IOException {
        ObjectNode line = mapper.createObjectNode();
        line.put("file", file.toString());
        if (outcome instanceof ImageOutcome.Labeled labeled) {
            ArrayNode array = line.putArray("labels");
            for (ClassScore l : labeled.top()) {
                array.addObject().put("index", l.index()).put("label", l.label()).put("score", l.score());
            }
            line.putObject("model").put("name", engine.primaryModel().identity().name())
                    .put("sha256", engine.primaryModel().identity().sha256());
            line.put("recipe", engine.recipeHash());
        } else {
            ImageOutcome.Rejected r = (ImageOutcome.Rejected) outcome;
            line.putObject("error").put("reason", r.reason().name()).put("message", r.message());
        }
        return mapper.writeValueAsString(line);
    }
}
