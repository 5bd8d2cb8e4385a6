package io.labelstream.cli;

import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageEvents;
import io.labelstream.schema.Topic;
import io.labelstream.schema.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

@Command(name = "produce", mixinStandardHelpOptions = true, sortOptions = false,
        description = {"Publishes image files, and folders of them recursively, to the input topic as ImageEvents: "
                + "the bytes inline, or with --reference a file:// URI (labelstream must then be allowed to read that "
                + "folder: fetch.file.roots). Shows progress (count, rate, ETA). A file larger than the topic accepts "
                + "is refused with a suggestion to use --reference; the exit code is then 1.", "",
                "Examples:",
                "  labelstream produce --bootstrap-servers kafka:9092 photos/",
                "  labelstream produce --bootstrap-servers kafka:9092 --reference --rate 200 /data/archive"})
final class ProduceCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Parameters(paramLabel = "PATH", arity = "1..*", description = "Image files or folders (searched recursively).")
    List<Path> paths;

    @Option(names = "--reference", description = "Send file:// references instead of the bytes.")
    boolean reference;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "0", description = "At most N images per second (0: no limit).")
    double rate;

    @Option(names = "--extensions", split = ",", defaultValue = "jpg,jpeg,png,gif,bmp,webp,tif,tiff",
            description = "File name endings searched in folders (default ${DEFAULT-VALUE}).")
    Set<String> extensions;

    @Option(names = "--topic", description = "Target topic (default: the first of input.topics).")
    String topic;

    @Option(names = "--source", defaultValue = "labelstream-produce", description = "The events' source field.")
    String source;

    @Override
    public Integer call() throws Exception {
        LabelstreamConfig config = options.load(Map.of());
        if (!ConfigOptions.requireCluster(config, "produce")) {
            return 2;
        }
        Topic<ImageEvent> input = Topics.from(config).input();
        Topic<ImageEvent> target = topic == null ? input : new Topic<>(topic, input.valueSerde());
        List<Path> files = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> walk = Files.walk(p)) {
                    walk.filter(Files::isRegularFile).filter(this::wanted).sorted().forEach(files::add);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                System.err.println("labelstream: no such file or folder: " + p);
                return 2;
            }
        }
        KafkaClients clients = KafkaClients.of(config);
        long maxBytes = maxMessageBytes(clients, target.name());
        int maxRequestBytes = (int) Math.min(Integer.MAX_VALUE, Math.max(maxBytes, 1 << 20));
        Progress progress = new Progress(files.size());
        List<String> refused = new ArrayList<>();
        AtomicInteger sent = new AtomicInteger();
        AtomicReference<Exception> sendError = new AtomicReference<>();
        long start = System.nanoTime();
        try (var producer = clients.producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequestBytes))) {
            for (int i = 0; i < files.size(); i++) {
                Path file = files.get(i);
                Path absolute = file.toAbsolutePath().normalize();
                String id = absolute.toString();
                ImageEvent event = (reference
                        ? ImageEvents.reference(id, absolute.toUri(), contentType(file), Files.size(file))
                        : ImageEvents.inline(id, Files.readAllBytes(file), contentType(file)))
                        .setSource(source).setAttributes(Map.of("file", file.getFileName().toString())).build();
                ProducerRecord<byte[], byte[]> record = target.record(id, event);
                if (record.value().length + 512 > maxBytes) {
                    refused.add(file + " (" + Files.size(file) + " bytes)");
                    progress.update(i + 1, refused.size());
                    continue;
                }
                producer.send(record, (meta, e) -> {
                    if (e != null) {
                        sendError.compareAndSet(null, e);
                    } else {
                        sent.incrementAndGet();
                    }
                });
                progress.update(i + 1, refused.size());
                if (rate > 0) {
                    long due = start + (long) ((i + 1) / rate * 1e9);
                    long wait = due - System.nanoTime();
                    if (wait > 0) {
                        TimeUnit.NANOSECONDS.sleep(wait);
                    }
                }
            }
            producer.flush();
        }
        progress.finish(sent.get(), refused.size());
        if (sendError.get() != null) {
            System.err.println("labelstream: publishing failed: " + sendError.get().getMessage());
            return 1;
        }
        if (!refused.isEmpty()) {
            System.err.printf("labelstream: %d file(s) are larger than topic '%s' accepts (max.message.bytes %d); "
                            + "send them with --reference instead:%n  %s%n", refused.size(), target.name(), maxBytes,
                    String.join("\n  ", refused));
            return 1;
        }
        return 0;
    }

    private boolean wanted(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot > 0 && extensions.contains(name.substring(dot + 1));
    }

    private static String contentType(Path file) {
        String name = file.getFileName().toString().toLowerCase(Locale.ROOT);
        String ext = name.substring(name.lastIndexOf('.') + 1);
        return switch (ext) {
            case "jpg", "jpeg" -> "image/jpeg";
            case "tif", "tiff" -> "image/tiff";
            default -> "image/" + ext;
        };
    }

    /** The topic's max.message.bytes (its own or the broker's default), which bounds one event. */
    private static long maxMessageBytes(KafkaClients clients, String topic) throws Exception {
        try (Admin admin = clients.admin()) {
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
            Config config = admin.describeConfigs(List.of(resource)).all().get(30, TimeUnit.SECONDS).get(resource);
            return Long.parseLong(config.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG).value());
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IOException("cannot read the configuration of topic '" + topic + "' (does it exist?): "
                    + e.getCause().getMessage(), e);
        }
    }

    /** A one-line progress display on stderr: a bar on a terminal, a line every few seconds otherwise. */
    private static final class Progress {
        private final int total;
        private final long start = System.nanoTime();
        private final boolean terminal = System.console() != null;
        private long lastPrint;

        Progress(int total) {
            this.total = total;
        }

        void update(int done, int refused) {
            long now = System.nanoTime();
            if (now - lastPrint < (terminal ? 200_000_000L : 5_000_000_000L) && done < total) {
                return;
            }
            lastPrint = now;
            double seconds = Math.max(1e-3, (now - start) / 1e9);
            double perSecond = done / seconds;
            long eta = perSecond > 0 ? Math.round((total - done) / perSecond) : 0;
            int width = 30;
            int filled = total == 0 ? width : (int) ((long) done * width / total);
            String bar = "#".repeat(filled) + ".".repeat(width - filled);
            String line = String.format("[%s] %d/%d  %.1f images/s  ETA %d s%s", bar, done, total, perSecond, eta,
                    refused > 0 ? "  refused " + refused : "");
            System.err.print(terminal ? "\r" + line : line + System.lineSeparator());
        }

        void finish(int sent, int refused) {
            double seconds = (System.nanoTime() - start) / 1e9;
            System.err.print(terminal ? System.lineSeparator() : "");
            System.err.printf("Published %d image(s) in %.1f s (%.1f images/s)%s%n", sent, seconds,
                    sent / Math.max(1e-3, seconds), refused > 0 ? ", refused " + refused : "");
        }
    }
}
