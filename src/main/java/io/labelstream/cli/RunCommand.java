package io.labelstream.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the labeling pipeline until stopped (SIGTERM or Ctrl-C).", "",
                "Examples:",
                "  labelstream run --bootstrap-servers kafka:9092 --model resnet50.onnx --labels synset.txt",
                "  labelstream run --config labelstream.properties -s max.batch.size=16"})
final class RunCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        RunningInstance instance = RunningInstance.start(options.load(Map.of()));
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            instance.close();
            stopped.countDown();
        }, "labelstream-shutdown"));
        System.out.println("labelstream running against " + instance.bootstrapServers() + "; Ctrl-C to stop");
        stopped.await();
        return 0;
    }
}
