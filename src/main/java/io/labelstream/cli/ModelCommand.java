package io.labelstream.cli;

import io.labelstream.model.LoadedModel;
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
        subcommands = {ModelCommand.Generate.class, ModelFetchCommand.class, QuantizeCommand.class,
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
}
