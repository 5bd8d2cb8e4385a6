package io.labelstream.cli;

import org.apache.kafka.streams.KafkaStreams;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;

@Command(name = "run", mixinStandardHelpOptions = true,
        description = {"Runs the labeling pipeline until stopped (SIGTERM or Ctrl-C). Exits 1 if the pipeline "
                + "stops by itself (e.g. the broker refuses it).", "",
                "Needs a Kafka cluster (--bootstrap-servers, or bootstrap.servers in the settings) and stops at "
                        + "start-up without one, unless given --embedded-broker.", "",
                "Examples:",
                "  labelstream run --bootstrap-servers kafka:9092 --model resnet50.onnx --labels synset.txt",
                "  labelstream run --config labelstream.properties -s max.batch.size=16",
                "  labelstream run --embedded-broker --model resnet50.onnx   # to try it out"})
final class RunCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = "--embedded-broker",
            description = "Start a single-node Kafka broker inside this process (loopback, free port, temporary data "
                    + "deleted at exit) and run on it, to try labelstream out. Not with bootstrap.servers.")
    boolean embeddedBroker;

    @Override
    public Integer call() throws Exception {
        RunningInstance instance = RunningInstance.start(options.load(Map.of()), embeddedBroker);
        CompletableFuture<Void> signalled = new CompletableFuture<>();
        CountDownLatch closed = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            signalled.complete(null);
            instance.close();
            closed.countDown();
            // Log4j's own shutdown hook is off (log4j2.xml) so that the lines above are still written.
            org.apache.logging.log4j.LogManager.shutdown();
        }, "labelstream-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        System.out.println("labelstream running against " + instance.bootstrapServers()
                + (embeddedBroker ? " (the embedded broker)" : "") + "; Ctrl-C to stop");
        // Woken by either event, not by a timer: an idle instance's main thread costs nothing.
        CompletableFuture<KafkaStreams.State> stopped = instance.pipeline().stopped();
        CompletableFuture.anyOf(signalled, stopped).get(); // interruptible, unlike join()
        if (!signalled.isDone()) {
            KafkaStreams.State state = stopped.get();
            // The hook stays: a SIGTERM now waits in it for this close (close is synchronized and idempotent).
            instance.close();
            System.err.println("labelstream: pipeline stopped (" + state + ")"
                    + (instance.pipeline().fatalError() == null ? ""
                    : ": " + instance.pipeline().fatalError().getMessage()));
            return 1;
        }
        closed.await();
        return 0;
    }
}
