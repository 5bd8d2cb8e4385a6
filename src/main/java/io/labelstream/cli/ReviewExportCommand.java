package io.labelstream.cli;

import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.review.ReviewExport;
import io.labelstream.review.ReviewImages;
import io.labelstream.schema.Topics;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.Callable;

@Command(name = "export", mixinStandardHelpOptions = true,
        description = {"Writes the reviewed images into one folder per label, the layout 'model adapt --train' "
                + "reads: confirmed under the rule's label, relabeled under the new label, dismissed under the "
                + "negative label. Each image's first decision counts; images are PNGs named by id.", "",
                "Examples:",
                "  labelstream review export --bootstrap-servers kafka:9092 --out reviewed/",
                "  labelstream review export -c labelstream.properties --out reviewed/ --negative-label safe"})
final class ReviewExportCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = "--out", required = true, paramLabel = "DIR", description = "Folder to write into.")
    Path out;

    @Option(names = "--negative-label", paramLabel = "LABEL", defaultValue = "other",
            description = "Folder of dismissed images (default: ${DEFAULT-VALUE}).")
    String negativeLabel;

    @Override
    public Integer call() throws Exception {
        LabelstreamConfig config = options.load(Map.of());
        if (!ConfigOptions.requireCluster(config, "review export")) {
            return 2;
        }
        if (negativeLabel.isBlank()) {
            System.err.println("labelstream: --negative-label must not be empty");
            return 2;
        }
        KafkaClients clients = KafkaClients.of(config);
        try (Topics topics = Topics.forConfig(config)) {
            ReviewImages images = ReviewImages.from(config, clients, topics);
            ReviewExport.Summary summary = ReviewExport.export(clients, topics, images, out, negativeLabel);
            summary.imagesByLabel().forEach((label, n) -> System.out.println(out.resolve(label) + ": " + n));
            summary.missing().forEach((id, why) -> System.err.println("labelstream: left out " + id + ": " + why));
            System.out.println("exported " + summary.imagesByLabel().values().stream().mapToInt(i -> i).sum()
                    + " reviewed images from " + config.get(Settings.REVIEWS_TOPIC) + " into " + out);
            return summary.missing().isEmpty() ? 0 : 1;
        }
    }
}
