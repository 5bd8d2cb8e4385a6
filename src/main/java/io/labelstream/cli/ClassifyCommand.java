package io.labelstream.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.ActivationOverlay;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.model.Activation;
import io.labelstream.model.DefaultModel;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.BatchOutcome;
import io.labelstream.model.ClassScore;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelingEngine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
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
                "  labelstream classify --model cifar.onnx --labels labels.txt --preset cifar10 --json images/",
                "  labelstream classify --model resnet50-v1-7.onnx --labels synset.txt -s explain.top=1 --explain maps/ photo.jpg"})
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

    @Option(names = "--explain", paramLabel = "DIR", description = "Write one PNG per image and explained label"
            + " (needs -s explain.top=N): its class activation map laid over the image.")
    Path explainDir;

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
        if (explainDir != null && config.get(Settings.EXPLAIN_TOP) == 0) {
            System.err.println("labelstream: --explain draws the maps of explained labels: set -s "
                    + Settings.EXPLAIN_TOP.key() + "=N (N >= 1) too");
            return 2;
        }
        if (explainDir != null) {
            Files.createDirectories(explainDir);
        }
        List<Path> files = io.labelstream.image.ImageFiles.expand(inputs);
        if (files.isEmpty()) {
            System.err.println("labelstream: no image files in " + inputs);
            return 2;
        }
        int batchSize = config.get(Settings.MAX_BATCH_SIZE);
        // The engine's own limits (image.max.*): an image it labeled decodes again within them for its overlays.
        ImageDecoder overlayDecoder = explainDir == null ? null : new ImageDecoder(ImageLimits.of(config));
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
                    if (explainDir != null && outcome instanceof ImageOutcome.Labeled labeled) {
                        writeOverlays(chunk.get(i), bytes.get(i), labeled, overlayDecoder);
                    }
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
                Activation map = explained(labeled, l);
                if (map != null) {
                    b.append(' ').append(ActivationView.compact(map.rows(), map.cols(), map.cells()));
                }
            }
            return String.format("%-40s  %s", shown, b);
        }
        ImageOutcome.Rejected r = (ImageOutcome.Rejected) outcome;
        return String.format("%-40s  FAILED %s: %s", shown, r.reason(), r.message());
    }

    /** The label's map when it is one of the best explain.top, else null. */
    private static Activation explained(ImageOutcome.Labeled labeled, ClassScore label) {
        if (labeled.maps() == null || labeled.top().indexOf(label) >= labeled.maps().explain().top()) {
            return null;
        }
        return labeled.maps().activation(label.index());
    }

    /** {@code DIR/<file name>-<rank>-<label>.png} for each explained label: its map over the upright image. */
    private void writeOverlays(Path file, byte[] bytes, ImageOutcome.Labeled labeled, ImageDecoder decoder)
            throws IOException {
        BufferedImage image;
        try {
            image = decoder.decode(bytes);
        } catch (ImageRejectedException e) {
            throw new IOException("cannot decode " + file + " again to draw its maps: " + e.getMessage(), e);
        }
        String stem = file.getFileName().toString().replaceFirst("\\.[^.]*$", "");
        for (int rank = 0; rank < labeled.top().size(); rank++) {
            ClassScore label = labeled.top().get(rank);
            Activation map = explained(labeled, label);
            if (map == null) {
                continue;
            }
            Path out = explainDir.resolve(stem + "-" + (rank + 1) + "-" + label.label().replaceAll("[^A-Za-z0-9_-]+",
                    "_") + ".png");
            ImageIO.write(ActivationOverlay.render(image, map.rows(), map.cols(), map.cells(), map.box()), "png",
                    out.toFile());
        }
    }

    private static String jsonLine(ObjectMapper mapper, LabelingEngine engine, Path file,
                                   ImageOutcome outcome) throws IOException {
        ObjectNode line = mapper.createObjectNode();
        line.put("file", file.toString());
        if (outcome instanceof ImageOutcome.Labeled labeled) {
            ArrayNode array = line.putArray("labels");
            for (ClassScore l : labeled.top()) {
                ObjectNode label = array.addObject().put("index", l.index()).put("label", l.label())
                        .put("score", l.score());
                Activation map = explained(labeled, l);
                if (map != null) {
                    ActivationView.putJson(label, map.rows(), map.cols(), map.cells(), map.box().x(), map.box().y(),
                            map.box().width(), map.box().height());
                }
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
