package io.labelstream.cli;

import io.labelstream.broker.KafkaClients;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.image.FetchSettings;
import io.labelstream.image.S3Location;
import io.labelstream.image.S3Store;
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
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.services.s3.model.S3Object;

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
                + "folder: fetch.file.roots). An s3://bucket/prefix/ argument lists that bucket's objects under the "
                + "prefix (paginated, in key order) and publishes one s3:// reference per image, with its size "
                + "(labelstream must be allowed to read it: fetch.s3.buckets; the S3 client is set up by "
                + "fetch.s3.region, fetch.s3.endpoint and fetch.s3.path.style, credentials from the AWS SDK's "
                + "default chain). Shows progress (count, rate, ETA). A file larger than the topic accepts is "
                + "refused with a suggestion to use --reference; the exit code is then 1.", "",
                "Examples:",
                "  labelstream produce --bootstrap-servers kafka:9092 photos/",
                "  labelstream produce --bootstrap-servers kafka:9092 --reference --rate 200 /data/archive",
                "  labelstream produce --bootstrap-servers kafka:9092 -s fetch.s3.region=eu-west-1 s3://photos/2026/",
                "  labelstream produce --bootstrap-servers kafka:9092 --start-after 2026/0412.jpg s3://photos/2026/"})
final class ProduceCommand implements Callable<Integer> {

    @Mixin
    ConfigOptions options;

    @Parameters(paramLabel = "PATH|s3://BUCKET/PREFIX", arity = "1..*",
            description = "Image files or folders (searched recursively), or S3 prefixes (a bucket's objects whose "
                    + "keys start with PREFIX; s3://BUCKET for all).")
    List<String> paths;

    @Option(names = "--reference", description = "Send file:// references instead of the bytes (S3 objects are "
            + "always sent as s3:// references).")
    boolean reference;

    @Option(names = "--rate", paramLabel = "N", defaultValue = "0", description = "At most N images per second (0: no limit).")
    double rate;

    @Option(names = "--extensions", split = ",", defaultValue = "jpg,jpeg,png,gif,bmp,webp,tif,tiff",
            description = "File name endings searched in folders and buckets (default ${DEFAULT-VALUE}).")
    Set<String> extensions;

    @Option(names = "--start-after", paramLabel = "KEY",
            description = "With one s3:// prefix: start after this key (S3's StartAfter), to resume a run that "
                    + "stopped; its summary prints the last key published.")
    String startAfter;

    @Option(names = "--page-size", paramLabel = "N", defaultValue = "1000",
            description = "Keys per S3 list request (default ${DEFAULT-VALUE}, S3's largest).")
    int pageSize;

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
        try (Topics topics = Topics.forConfig(config)) {
            return produce(config, topics);
        }
    }

    /** The command, on the configuration's topics (closed by the caller). */
    private Integer produce(LabelstreamConfig config, Topics topics) throws Exception {
        Topic<ImageEvent> target = topic == null ? topics.input() : topics.inputNamed(topic);
        List<Path> files = new ArrayList<>();
        List<S3Location> prefixes = new ArrayList<>();
        for (String arg : paths) {
            if (S3Location.isS3(arg)) {
                try {
                    prefixes.add(S3Location.parse(arg));
                } catch (IllegalArgumentException e) {
                    System.err.println("labelstream: " + e.getMessage());
                    return 2;
                }
                continue;
            }
            Path p = Path.of(arg);
            if (Files.isDirectory(p)) {
                try (Stream<Path> walk = Files.walk(p)) {
                    walk.filter(Files::isRegularFile).filter(f -> wanted(f.getFileName().toString())).sorted()
                            .forEach(files::add);
                }
            } else if (Files.isRegularFile(p)) {
                files.add(p);
            } else {
                System.err.println("labelstream: no such file or folder: " + p);
                return 2;
            }
        }
        if (startAfter != null && prefixes.size() != 1) {
            System.err.println("labelstream: --start-after needs exactly one s3:// prefix, not " + prefixes.size());
            return 2;
        }
        if (pageSize < 1 || pageSize > 1000) {
            System.err.println("labelstream: --page-size must be 1–1000, not " + pageSize);
            return 2;
        }
        warnIfNotFetchable(config, prefixes);
        KafkaClients clients = KafkaClients.of(config);
        long maxBytes;
        try {
            maxBytes = maxMessageBytes(clients, target.name());
        } catch (IOException e) {
            System.err.println("labelstream: " + e.getMessage());
            return 2;
        }
        int maxRequestBytes = (int) Math.min(Integer.MAX_VALUE, Math.max(maxBytes, 1 << 20));
        Progress progress = new Progress(files.size(), prefixes.isEmpty());
        List<String> refused = new ArrayList<>();
        AtomicInteger sent = new AtomicInteger();
        AtomicReference<Exception> sendError = new AtomicReference<>();
        long start = System.nanoTime();
        int listingFailures = 0;
        try (var producer = clients.producer(Map.of(ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.MAX_REQUEST_SIZE_CONFIG, maxRequestBytes))) {
            Publisher publisher = new Publisher(producer, target, maxBytes, start, progress, refused, sent, sendError);
            for (Path file : files) {
                Path absolute = file.toAbsolutePath().normalize();
                String id = absolute.toString();
                ImageEvent event = (reference
                        ? ImageEvents.reference(id, absolute.toUri(), contentType(file.getFileName().toString()),
                        Files.size(file))
                        : ImageEvents.inline(id, Files.readAllBytes(file), contentType(file.getFileName().toString())))
                        .setSource(source).setAttributes(Map.of("file", file.getFileName().toString())).build();
                publisher.publish(id, event, file + " (" + Files.size(file) + " bytes)");
            }
            if (!prefixes.isEmpty()) {
                try (S3Store store = new S3Store(FetchSettings.s3(config))) {
                    for (S3Location prefix : prefixes) {
                        listingFailures += publishBucket(store, prefix, publisher, progress) ? 0 : 1;
                    }
                } catch (S3Store.NoRegionException e) {
                    System.err.println("labelstream: " + e.getMessage() + "; set " + Settings.FETCH_S3_REGION.key()
                            + " (-s " + Settings.FETCH_S3_REGION.key() + "=…), or " + Settings.FETCH_S3_ENDPOINT.key()
                            + " for an S3-compatible store");
                    return 2;
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
        return listingFailures == 0 ? 0 : 1;
    }

    /**
     * Publishes a reference for every image under {@code prefix}, page by page as S3 lists them; false when the
     * listing failed (the message names the last key published, to resume from).
     */
    private boolean publishBucket(S3Store store, S3Location prefix, Publisher publisher, Progress progress)
            throws Exception {
        String last = null;
        long listed = 0;
        try (Stream<S3Object> objects = store.list(prefix, startAfter, pageSize)) {
            for (var it = objects.iterator(); it.hasNext(); ) {
                S3Object object = it.next();
                listed++;
                if (!wanted(object.key())) {
                    continue;
                }
                progress.found(1);
                String uri = new S3Location(prefix.bucket(), object.key()).toString();
                String name = object.key().substring(object.key().lastIndexOf('/') + 1);
                ImageEvent event = ImageEvents.reference(uri, uri, contentType(name), object.size())
                        .setSource(source).setAttributes(Map.of("file", name, "s3.etag",
                                object.eTag() == null ? "" : object.eTag())).build();
                publisher.publish(uri, event, uri + " (" + object.size() + " bytes)");
                last = object.key();
            }
        } catch (SdkException e) {
            System.err.printf("labelstream: listing %s failed after %d object(s): %s%s%n", prefix, listed,
                    e.getMessage(), last == null ? "" : "; resume with --start-after '" + last + "'");
            return false;
        }
        System.err.printf("%s: %d object(s) listed%s%n", prefix, listed,
                last == null ? ", no images" : ", last image published: " + last + " (resume after it with "
                        + "--start-after)");
        return true;
    }

    /** Events the instance would refuse: said before publishing them, if this configuration names the buckets. */
    private static void warnIfNotFetchable(LabelstreamConfig config, List<S3Location> prefixes) {
        List<S3Location> areas = FetchSettings.s3Areas(config);
        if (areas.isEmpty()) {
            return;
        }
        for (S3Location prefix : prefixes) {
            if (areas.stream().noneMatch(prefix::isIn)) {
                System.err.printf("labelstream: warning: %s is not inside %s=%s; an instance with this "
                        + "configuration refuses its references (REFERENCE_REFUSED)%n", prefix,
                        Settings.FETCH_S3_BUCKETS.key(), config.get(Settings.FETCH_S3_BUCKETS));
            }
        }
    }

    /** Sends events one by one, under the rate limit, refusing those larger than the topic accepts. */
    private final class Publisher {
        private final org.apache.kafka.clients.producer.Producer<byte[], byte[]> producer;
        private final Topic<ImageEvent> target;
        private final long maxBytes;
        private final long start;
        private final Progress progress;
        private final List<String> refused;
        private final AtomicInteger sent;
        private final AtomicReference<Exception> sendError;
        private int done;

        Publisher(org.apache.kafka.clients.producer.Producer<byte[], byte[]> producer, Topic<ImageEvent> target,
                  long maxBytes, long start, Progress progress, List<String> refused, AtomicInteger sent,
                  AtomicReference<Exception> sendError) {
            this.producer = producer;
            this.target = target;
            this.maxBytes = maxBytes;
            this.start = start;
            this.progress = progress;
            this.refused = refused;
            this.sent = sent;
            this.sendError = sendError;
        }

        void publish(String id, ImageEvent event, String what) throws InterruptedException {
            ProducerRecord<byte[], byte[]> record = target.record(id, event);
            done++;
            if (record.value().length + 512 > maxBytes) {
                refused.add(what);
                progress.update(done, refused.size());
                return;
            }
            producer.send(record, (meta, e) -> {
                if (e != null) {
                    sendError.compareAndSet(null, e);
                } else {
                    sent.incrementAndGet();
                }
            });
            progress.update(done, refused.size());
            if (rate > 0) {
                long due = start + (long) (done / rate * 1e9);
                long wait = due - System.nanoTime();
                if (wait > 0) {
                    TimeUnit.NANOSECONDS.sleep(wait);
                }
            }
        }
    }

    private boolean wanted(String fileName) {
        String name = fileName.toLowerCase(Locale.ROOT);
        int dot = name.lastIndexOf('.');
        return dot > 0 && extensions.contains(name.substring(dot + 1));
    }

    private static String contentType(String fileName) {
        String name = fileName.toLowerCase(Locale.ROOT);
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

    /**
     * A one-line progress display on stderr: a bar on a terminal, a line every few seconds otherwise. While a
     * bucket is being listed the total grows page by page, and no ETA is shown.
     */
    private static final class Progress {
        private long total;
        private boolean totalKnown;
        private final long start = System.nanoTime();
        private final boolean terminal = System.console() != null;
        private long lastPrint;

        Progress(int files, boolean totalKnown) {
            this.total = files;
            this.totalKnown = totalKnown;
        }

        void found(int more) {
            total += more;
        }

        void update(int done, int refused) {
            long now = System.nanoTime();
            if (now - lastPrint < (terminal ? 200_000_000L : 5_000_000_000L) && (done < total || !totalKnown)) {
                return;
            }
            lastPrint = now;
            double seconds = Math.max(1e-3, (now - start) / 1e9);
            double perSecond = done / seconds;
            String line;
            if (totalKnown) {
                long eta = perSecond > 0 ? Math.round((total - done) / perSecond) : 0;
                int width = 30;
                int filled = total == 0 ? width : (int) ((long) done * width / total);
                String bar = "#".repeat(filled) + ".".repeat(width - filled);
                line = String.format("[%s] %d/%d  %.1f images/s  ETA %d s", bar, done, total, perSecond, eta);
            } else {
                line = String.format("%d published  %.1f images/s  (listing)", done, perSecond);
            }
            line += refused > 0 ? "  refused " + refused : "";
            System.err.print(terminal ? "\r" + line : line + System.lineSeparator());
        }

        void finish(int sent, int refused) {
            totalKnown = true;
            double seconds = (System.nanoTime() - start) / 1e9;
            System.err.print(terminal ? System.lineSeparator() : "");
            System.err.printf("Published %d image(s) in %.1f s (%.1f images/s)%s%n", sent, seconds,
                    sent / Math.max(1e-3, seconds), refused > 0 ? ", refused " + refused : "");
        }
    }
}
