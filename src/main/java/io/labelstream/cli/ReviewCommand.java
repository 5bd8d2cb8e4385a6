package io.labelstream.cli;

import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.review.ReviewConsole;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

@Command(name = "review", mixinStandardHelpOptions = true, subcommands = ReviewExportCommand.class,
        description = {"Serves the moderation review console until stopped: the flagged images waiting for a "
                + "decision, in a browser; Confirm, Dismiss and Relabel become ImageReview records on reviews.topic.",
                "",
                "Listens on review.bind (loopback by default) and asks for review.token on its login form; without "
                        + "one, a token is generated and printed once. Needs the cluster the pipeline runs on.", "",
                "Examples:",
                "  labelstream review --bootstrap-servers kafka:9092 --labels synset.txt",
                "  labelstream review --config labelstream.properties -s review.bind=127.0.0.1:8080"})
final class ReviewCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Override
    public Integer call() throws Exception {
        LabelstreamConfig config = options.load(Map.of());
        if (!ConfigOptions.requireCluster(config, "review")) {
            return 2;
        }
        CountDownLatch closed = new CountDownLatch(1);
        ReviewConsole console = ReviewConsole.start(config);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            console.close();
            closed.countDown();
            org.apache.logging.log4j.LogManager.shutdown();
        }, "labelstream-review-shutdown"));
        String host = console.address().getAddress().isAnyLocalAddress() ? "localhost"
                : console.address().getAddress().getHostAddress();
        System.out.println("labelstream review console on http://" + host + ":" + console.address().getPort()
                + "/ reading " + config.get(Settings.FLAGGED_TOPIC) + ", writing " + config.get(Settings.REVIEWS_TOPIC)
                + "; Ctrl-C to stop");
        if (config.get(Settings.REVIEW_TOKEN).isBlank()) {
            System.out.println("review token (generated for this run; set review.token to keep one): "
                    + console.token());
        }
        closed.await();
        return 0;
    }
}
