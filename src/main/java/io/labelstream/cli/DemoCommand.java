package io.labelstream.cli;

import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.SyntheticImages;
import io.labelstream.model.DefaultModel;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageEvents;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Label;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;

@Command(name = "demo", mixinStandardHelpOptions = true,
        description = {"Starts an embedded Kafka broker (none with --bootstrap-servers), generates a ResNet-18 if no "
                + "model is given, publishes generated images, a corrupt image among them and two image references "
                + "(one allowed, one outside the allowed folder), and prints every labeled record and failure.",
                "The generated model is untrained: its labels are meaningless; pass --model and --labels for real ones.",
                "", "Example: labelstream demo --images 40"})
final class DemoCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Option(names = "--images", defaultValue = "40", description = "How many images to publish (default ${DEFAULT-VALUE}).")
    int images;

    @Option(names = "--timeout", defaultValue = "PT3M", description = "Give up after this long (default ${DEFAULT-VALUE}).")
    Duration timeout;

    @Override
    public Integer call() throws Exception {
        LabelstreamConfig config = options.load(Map.of(Settings.APPLICATION_ID.key(), "labelstream-demo",
                Settings.OPS_PORT.key(), "0"));
        config = DefaultModel.orGenerated(config, System.out);
        Path allowed = Files.createTempDirectory("labelstream-demo-images");
        if (config.get(Settings.FETCH_FILE_ROOTS).isEmpty()) {
            config = config.with(Settings.FETCH_FILE_ROOTS.key(), allowed.toString());
        }
        // Self-contained unless given a cluster: without bootstrap.servers, a broker of its own.
        try (RunningInstance instance = RunningInstance.start(config, !config.hasBootstrapServers())) {
            if (!instance.pipeline().awaitRunning(Duration.ofSeconds(60))) {
                System.err.println("labelstream: pipeline did not start within 60 s");
                return 1;
            }
            if (instance.opsPort() >= 0) {
                System.out.printf("Metrics: http://localhost:%d/metrics   health: /health/live, /health/ready%n",
                        instance.opsPort());
            }
            boolean complete;
            try (Topics topics = Topics.forConfig(config)) {
                KafkaClients clients = KafkaClients.of(config, instance.bootstrapServers());
                int published = publish(clients, topics.input(), allowed);
                System.out.printf("Published %d images, 1 corrupt image among them, and 2 images by reference (one "
                        + "inside the allowed folder %s, one outside) to '%s'%n%n", images, allowed, topics.input().name());
                complete = printResults(instance, clients, topics, published);
            }
            if (instance.opsPort() >= 0) {
                printOps(instance.opsPort());
            }
            return complete ? 0 : 1;
        }
    }

    /**
     * Publishes the generated images with one corrupt image in the middle of the stream (so it shares a batch
     * with good ones), then two references: one inside the demo's allowed folder, one outside it.
     */
    private int publish(KafkaClients clients, Topic<ImageEvent> input, Path allowedFolder) throws Exception {
        try (var producer = clients.producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 20))) {
            int[][] sizes = {{640, 480}, {224, 224}, {480, 640}, {800, 600}};
            for (int i = 0; i < images; i++) {
                int[] size = sizes[i % sizes.length];
                send(producer, input, ImageEvents.inline(String.format("demo-%03d", i),
                        SyntheticImages.jpeg(size[0], size[1], i), "image/jpeg"));
                if (i == images / 2) {
                    byte[] good = SyntheticImages.jpeg(320, 240, 999);
                    send(producer, input, ImageEvents.inline("demo-corrupt", Arrays.copyOf(good, good.length / 3),
                            "image/jpeg"));
                }
            }
            Path inside = allowedFolder.resolve("by-reference.jpg");
            Files.write(inside, SyntheticImages.jpeg(640, 480, 4242));
            send(producer, input, ImageEvents.reference("demo-reference", inside.toUri(), "image/jpeg", null));
            send(producer, input, ImageEvents.reference("demo-escape",
                    allowedFolder.resolve("../../etc/passwd").toUri(), null, null));
            producer.flush();
        }
        return images + 3;
    }

    private static void send(Producer<byte[], byte[]> producer, Topic<ImageEvent> input, ImageEvent.Builder event) {
        ImageEvent built = event.setSource("labelstream-demo").build();
        producer.send(input.record(built.getId(), built));
    }

    /**
     * Prints every output: the primary's labels and failures, and each side model's labels (models.extra), until
     * every published record has its primary output and every side model has labeled what the primary labeled.
     */
    private boolean printResults(RunningInstance instance, KafkaClients clients, Topics topics, int expected) {
        int labeled = 0;
        int failed = 0;
        Map<String, String> sideModelOf = new java.util.HashMap<>();
        topics.sideLabels().forEach((model, topic) -> sideModelOf.put(topic.name(), model));
        Map<String, Integer> sideOutputs = new java.util.HashMap<>();
        long deadline = System.nanoTime() + timeout.toNanos();
        List<String> subscribed = new java.util.ArrayList<>(List.of(topics.labels().name(), topics.failures().name()));
        subscribed.addAll(sideModelOf.keySet());
        try (var consumer = clients.readCommittedConsumer(Map.of(ConsumerConfig.GROUP_ID_CONFIG,
                "labelstream-demo-reader", ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"))) {
            consumer.subscribe(subscribed);
            while (!done(labeled + failed, expected, labeled, sideModelOf.values(), sideOutputs)
                    && System.nanoTime() < deadline && instance.pipeline().fatalError() == null) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    String side = sideModelOf.get(r.topic());
                    if (side != null) {
                        sideOutputs.merge(side, 1, Integer::sum);
                        System.out.println(describe(topics.labels().value(r)).replaceFirst("LABELED ",
                                String.format("%-8s", side)));
                    } else if (r.topic().equals(topics.labels().name())) {
                        labeled++;
                        System.out.println(describe(topics.labels().value(r)));
                    } else {
                        ImageFailure failure = topics.failures().value(r);
                        String model = failure.getModel() == null ? null : failure.getModel().getName();
                        if (model != null && sideModelOf.containsValue(model)) {
                            sideOutputs.merge(model, 1, Integer::sum); // a side model failed on an image
                        } else {
                            failed++;
                        }
                        System.out.println(describe(failure));
                    }
                }
            }
        }
        System.out.printf("%nLabeled %d, failed %d, of %d published%s%n", labeled, failed, expected,
                sideOutputs.isEmpty() ? "" : "; side models' outputs " + sideOutputs);
        return done(labeled + failed, expected, labeled, sideModelOf.values(), sideOutputs);
    }

    private static boolean done(int primaryOutputs, int expected, int labeled, java.util.Collection<String> sideModels,
                                Map<String, Integer> sideOutputs) {
        return primaryOutputs >= expected
                && sideModels.stream().allMatch(m -> sideOutputs.getOrDefault(m, 0) >= labeled);
    }

    /** What a Prometheus scrape and a readiness probe see at the end of the demo. */
    private static void printOps(int port) throws Exception {
        var http = java.net.http.HttpClient.newHttpClient();
        String metrics = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + port + "/metrics")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString()).body();
        var ready = http.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://localhost:" + port + "/health/ready")).build(),
                java.net.http.HttpResponse.BodyHandlers.ofString());
        System.out.printf("%nGET /health/ready -> %d %s", ready.statusCode(), ready.body());
        System.out.println("GET /metrics (labelstream_* excerpt; Kafka Streams' own metrics are there too, "
                + metrics.lines().filter(l -> l.startsWith("kafka_stream")).count() + " lines):");
        metrics.lines().filter(l -> l.startsWith("labelstream_") && !l.contains("_bucket{"))
                .filter(l -> !l.endsWith(" 0.0") || l.startsWith("labelstream_model_info"))
                .forEach(l -> System.out.println("  " + l));
    }

    private static String describe(ImageLabels l) {
        String top = l.getLabels().stream().limit(3)
                .map((Label x) -> String.format("%s %.3f", x.getLabel(), x.getScore()))
                .collect(Collectors.joining(", "));
        return String.format("LABELED %-12s %s  [batch %d, queue %.0f ms, infer %.0f ms, %s@%d/%d]", l.getId(), top,
                l.getBatchSize(), l.getTimings().getQueueMs(), l.getTimings().getInferenceMs(),
                l.getSource().getTopic(), l.getSource().getPartition(), l.getSource().getOffset());
    }

    private static String describe(ImageFailure f) {
        return String.format("FAILED  %-12s %s: %s  [%d original bytes kept, %s@%d/%d]", f.getId(), f.getReason(),
                f.getMessage(), f.getOriginalValue() == null ? 0 : f.getOriginalValue().remaining(),
                f.getSource().getTopic(), f.getSource().getPartition(), f.getSource().getOffset());
    }
}
