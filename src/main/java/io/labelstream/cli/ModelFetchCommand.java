package io.labelstream.cli;

import io.labelstream.model.DefaultModel;
import io.labelstream.model.zoo.ModelZoo;
import io.labelstream.model.zoo.ZooFetcher;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.LongConsumer;

@Command(name = "fetch", mixinStandardHelpOptions = true,
        description = {"Downloads a pretrained ONNX Model Zoo classifier from the Zoo's Hugging Face repository ("
                + ModelZoo.REPOSITORY + ", revision " + ModelZoo.REVISION + ") into the cache folder's zoo/, verified"
                + " against a SHA-256 pinned in labelstream, and writes the ImageNet class list beside it. An"
                + " interrupted download continues where it stopped. The only command that uses the network;"
                + " exits 2 on an unknown model, 1 when the file could not be fetched or verified.", "",
                "Examples:", "  labelstream model fetch --list", "  labelstream model fetch resnet50",
                "  labelstream model fetch resnet50 --base-url https://mirror.example/zoo/"})
final class ModelFetchCommand implements Callable<Integer> {

    @Parameters(arity = "0..1", paramLabel = "MODEL", description = "A name from --list, e.g. resnet50.")
    String name;

    @Option(names = "--list", description = "Print what can be fetched: names, sizes, precision and where from.")
    boolean list;

    @Option(names = "--base-url", paramLabel = "URL", description = "A mirror holding each file at URL/<path in the"
            + " Zoo> (default: $HF_ENDPOINT, else https://huggingface.co, + /" + ModelZoo.REPOSITORY + "/resolve/"
            + ModelZoo.REVISION + "/).")
    URI baseUrl;

    @Option(names = "--dir", paramLabel = "DIR", description = "Folder to keep the files in (default: the cache"
            + " folder's zoo/).")
    Path dir;

    @Override
    public Integer call() {
        ZooFetcher zoo = new ZooFetcher(baseUrl != null ? baseUrl : ModelZoo.defaultBase(System.getenv("HF_ENDPOINT")),
                dir != null ? dir : DefaultModel.cacheDir().resolve("zoo"));
        if (list) {
            printCatalog(zoo);
            return 0;
        }
        if (name == null) {
            System.err.println("labelstream: name a model to fetch (see 'labelstream model fetch --list')");
            return 2;
        }
        ModelZoo.Entry entry;
        try {
            entry = ModelZoo.entry(name);
        } catch (IllegalArgumentException e) {
            System.err.println("labelstream: " + e.getMessage());
            return 2;
        }
        Path labels = null;
        try {
            // First, as it needs no network: offline, the class list is there for a model fetched elsewhere.
            labels = zoo.installClassList(entry.labels());
            System.err.printf("%s: %.1f MB from %s%n", entry.model().fileName(), entry.model().size() / 1e6,
                    zoo.source(entry.model()));
            ProgressLine progress = new ProgressLine(entry.model());
            Path model = zoo.fetch(entry.model(), progress);
            progress.finish();
            System.out.printf("%s (%s) verified, sha256 %s%n  model:  %s%n  labels: %s%nClassify a photo with:%n"
                            + "  labelstream classify --model %s --labels %s photo.jpg%nRun it with:%n"
                            + "  labelstream run --bootstrap-servers kafka:9092 --model %s --labels %s"
                            + " -s preprocess.preset=%s%n", entry.name(), entry.description(), entry.model().sha256(),
                    model, labels, model, labels, model, labels, entry.preset());
            return 0;
        } catch (IOException e) {
            System.err.println();
            System.err.println("labelstream: " + e.getMessage());
            if (labels != null) {
                System.err.println("The ImageNet class list is in " + labels + " (--labels).");
            }
            return 1;
        }
    }

    private static void printCatalog(ZooFetcher zoo) {
        System.out.printf("%-15s %9s  %-15s %s%n", "MODEL", "SIZE", "PRECISION", "FILE");
        for (ModelZoo.Entry entry : ModelZoo.CATALOG) {
            System.out.printf("%-15s %6.1f MB  %-15s %s%n", entry.name(), entry.model().size() / 1e6,
                    entry.precision().label(), entry.model().fileName());
        }
        System.out.printf("%nAll ImageNet-1k classifiers (preprocess.preset=imagenet), with the Zoo's class list"
                + " (synset.txt, shipped in labelstream).%nFrom: %s<path>, e.g. %s%n", zoo.base(),
                zoo.source(ModelZoo.CATALOG.get(0).model()));
    }

    /**
     * Download progress on stderr: a percentage line rewritten in place on a terminal, a line every 10 % otherwise
     * (a log gets the milestones, not thousands of carriage returns).
     */
    private static final class ProgressLine implements LongConsumer {
        private final ModelZoo.Artifact artifact;
        private final boolean terminal = System.console() != null;
        private long shownPercent = -1;

        ProgressLine(ModelZoo.Artifact artifact) {
            this.artifact = artifact;
        }

        @Override
        public void accept(long bytes) {
            long percent = bytes * 100 / artifact.size();
            if (percent == shownPercent || !terminal && percent / 10 == shownPercent / 10 && shownPercent >= 0) {
                return;
            }
            shownPercent = percent;
            String line = String.format("%s: %d%% (%.1f of %.1f MB)", artifact.fileName(), percent, bytes / 1e6,
                    artifact.size() / 1e6);
            System.err.print(terminal ? "\r" + line : line + System.lineSeparator());
        }

        void finish() {
            System.err.print(terminal && shownPercent >= 0 ? System.lineSeparator() : "");
            System.err.println(artifact.fileName() + ": verified");
        }
    }
}
