package io.labelstream.cli;

import io.labelstream.model.DefaultModel;
import io.labelstream.model.LoadedModel;
import io.labelstream.model.ModelZoo;
import io.labelstream.model.ResNetGenerator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.concurrent.Callable;

@Command(name = "model", description = {"Model tools: generate an untrained ResNet offline, fetch a pretrained one,"
        + " quantize one to int8, or adapt one to your own classes.",
        "", "Examples:", "  labelstream model generate --arch resnet50 --out resnet50.onnx",
        "  labelstream model quantize --model resnet50.onnx --calibration photos/ --out resnet50-int8.onnx",
        "  labelstream model fetch resnet50",
        "  labelstream model adapt --model resnet50.onnx --train products/ --out products.onnx"},
        mixinStandardHelpOptions = true,
        subcommands = {ModelCommand.Generate.class, ModelCommand.Fetch.class, QuantizeCommand.class,
                AdaptCommand.class})
final class ModelCommand {

    @Command(name = "generate", mixinStandardHelpOptions = true,
            description = {"Writes a ResNet (He et al. 2015) as ONNX with seeded, UNTRAINED weights: real topology "
                    + "and cost, meaningless labels. Input 'input' [batch,3,224,224], output 'logits' [batch,1000].",
                    "", "Example: labelstream model generate --arch resnet50 --out resnet50.onnx"})
    static final class Generate implements Callable<Integer> {

        @Option(names = "--arch", required = true, paramLabel = "resnet18|resnet34|resnet50|resnet101|resnet152",
                description = "Architecture.")
        String architecture;

        @Option(names = "--out", required = true, paramLabel = "FILE", description = "Where to write the model.")
        Path out;

        @Option(names = "--seed", defaultValue = "" + ResNetGenerator.DEFAULT_SEED,
                description = "Weight seed (default ${DEFAULT-VALUE}).")
        long seed;

        @Option(names = "--int8", description = "Write it quantized to int8 (as 'model quantize' does), calibrated on"
                + " generated images: for benchmarks.")
        boolean int8;

        @Override
        public Integer call() throws Exception {
            ResNetGenerator.Architecture arch;
            try {
                arch = ResNetGenerator.Architecture.parse(architecture);
            } catch (IllegalArgumentException e) {
                System.err.println("labelstream: --arch: " + e.getMessage());
                return 2;
            }
            long start = System.nanoTime();
            if (int8) {
                io.labelstream.model.quantize.GeneratedInt8.write(arch, seed, out)
                        .calibration().lines().forEach(System.out::println);
            } else {
                ResNetGenerator.write(arch, seed, out);
            }
            System.out.printf("Wrote %s (%s%s, seed %d, %.1f MB, sha256 %s) in %.1f s%n", out, arch.modelName(),
                    int8 ? " int8" : "", seed,
                    java.nio.file.Files.size(out) / 1e6, LoadedModel.sha256(out), (System.nanoTime() - start) / 1e9);
            return 0;
        }
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = {"Downloads a pretrained ONNX Model Zoo classifier and its ImageNet class list into the cache "
                    + "folder (see docs/commands.md), verified against pinned SHA-256 digests. The only command that "
                    + "uses the network.", "", "Models: resnet18, resnet34, resnet50, resnet101, resnet152 (v1: 47, 87, 103, 179, 242 MB) and "
                    + "the same depths' v2 (resnet18-v2 …). The Zoo stopped serving LFS files from GitHub on "
                    + "2025-07-01: give a mirror with the same paths with --base-url.", "",
                    "Example: labelstream model fetch resnet50"})
    static final class Fetch implements Callable<Integer> {

        @picocli.CommandLine.Parameters(paramLabel = "MODEL", description = "resnet18|34|50|101|152, or with -v2.")
        String name;

        @Option(names = "--base-url", defaultValue = ModelZoo.DEFAULT_BASE,
                description = "Where the Model Zoo's files are (a mirror keeps the same paths; default ${DEFAULT-VALUE}).")
        String baseUrl;

        @Option(names = "--dir", description = "Folder to keep the files in (default: the cache folder's zoo/).")
        Path dir;

        @Override
        public Integer call() {
            ModelZoo.Entry entry;
            try {
                entry = ModelZoo.entry(name);
            } catch (IllegalArgumentException e) {
                System.err.println("labelstream: " + e.getMessage());
                return 2;
            }
            ModelZoo zoo = new ModelZoo(java.net.URI.create(baseUrl),
                    dir != null ? dir : DefaultModel.cacheDir().resolve("zoo"));
            try {
                Path model = zoo.fetch(entry.model(), progress(entry.model()));
                System.err.println();
                Path labels = zoo.fetch(entry.labels(), bytes -> { });
                System.out.printf("%s (%s) verified, sha256 %s%n  model:  %s%n  labels: %s%nRun it with:%n"
                                + "  labelstream run --model %s --labels %s -s preprocess.preset=%s%n", entry.name(),
                        entry.description(), entry.model().sha256(), model, labels, model, labels, entry.preset());
                return 0;
            } catch (java.io.IOException e) {
                System.err.println();
                System.err.println("labelstream: " + e.getMessage());
                return 1;
            }
        }

        private static java.util.function.LongConsumer progress(ModelZoo.Artifact artifact) {
            long[] shown = {-1};
            return bytes -> {
                long percent = bytes * 100 / artifact.size();
                if (percent != shown[0]) {
                    shown[0] = percent;
                    System.err.printf("\r%s: %d%% of %.1f MB", artifact.fileName(), percent, artifact.size() / 1e6);
                }
            };
        }
    }
}
