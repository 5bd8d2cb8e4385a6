package io.labelstream.bench;

import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.schema.AvroSerde;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageEvents;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModelIdentity;
import io.labelstream.schema.RecipeIdentity;
import io.labelstream.schema.SourceCoordinates;
import io.labelstream.schema.Timings;
import io.labelstream.schema.internal.BufferedRecord;

import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The per-image work outside inference, each step alone on one thread, in CPU µs per image (this thread's CPU
 * time, after a warm-up, median of rounds): what the pipeline adds to the model for every image it labels.
 */
final class StageCosts {

    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private interface Step {
        void run(int i) throws Exception;
    }

    private StageCosts() {
    }

    static void print(PrintStream out, Map<String, List<byte[]>> imagesBySize, int rounds) throws Exception {
        out.printf("%nPer-image steps outside inference, alone on one thread: CPU µs per image, median of %d round(s)"
                + "%n", rounds);
        out.printf("  %-9s %-10s %-12s %-12s %-13s %-14s %-14s %-13s%n", "images", "JPEG bytes", "decode",
                "resize+norm", "event decode", "buffer encode", "buffer decode", "labels encode");
        ImagePreprocessor preprocessor = new ImagePreprocessor(PreprocessRecipe.IMAGENET,
                new ImageDecoder(ImageLimits.defaults()));
        ImageDecoder decoder = new ImageDecoder(ImageLimits.defaults());
        int needed = PreprocessRecipe.IMAGENET.reducedDecode() ? PreprocessRecipe.IMAGENET.neededShorterSide() : 0;
        AvroSerde<ImageEvent> events = AvroSerdes.imageEvent();
        AvroSerde<BufferedRecord> buffered = AvroSerdes.bufferedRecord();
        AvroSerde<ImageLabels> labels = AvroSerdes.imageLabels();
        float[] tensor = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
        for (var e : imagesBySize.entrySet()) {
            List<byte[]> jpegs = e.getValue();
            int n = jpegs.size();
            List<BufferedImage> decoded = new ArrayList<>();
            List<byte[]> eventBytes = new ArrayList<>();
            List<byte[]> bufferedBytes = new ArrayList<>();
            List<BufferedRecord> bufferedRecords = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                decoded.add(decoder.decode(jpegs.get(i), needed));
                byte[] event = events.encode(ImageEvents.inline("img-" + i, jpegs.get(i), "image/jpeg").build());
                eventBytes.add(event);
                BufferedRecord r = BufferedRecord.newBuilder().setKey(ByteBuffer.wrap(("img-" + i).getBytes()))
                        .setValue(ByteBuffer.wrap(event)).setHeaders(List.of())
                        .setSource(new SourceCoordinates("images", 0, (long) i)).setTimestamp(i).setBufferedAt(i).build();
                bufferedRecords.add(r);
                bufferedBytes.add(buffered.encode(r));
            }
            ImageLabels output = sampleLabels();
            double full = median(rounds, i -> preprocessor.preprocess(jpegs.get(i % n), tensor));
            double resize = median(rounds, i -> preprocessor.preprocess(decoded.get(i % n), tensor));
            double eventDecode = median(rounds, i -> events.decode(eventBytes.get(i % n)));
            double bufferEncode = median(rounds, i -> buffered.encode(bufferedRecords.get(i % n)));
            double bufferDecode = median(rounds, i -> buffered.decode(bufferedBytes.get(i % n)));
            double labelsEncode = median(rounds, i -> labels.encode(output));
            long bytes = jpegs.stream().mapToLong(b -> b.length).sum() / n;
            out.printf(Locale.ROOT, "  %-9s %-10d %-12.0f %-12.0f %-13.1f %-14.1f %-14.1f %-13.1f%n", e.getKey(), bytes,
                    full - resize, resize, eventDecode, bufferEncode, bufferDecode, labelsEncode);
        }
        out.println("  (decode = preprocess from the JPEG bytes − resize+norm from the decoded image; event decode = "
                + "the input record's Avro; buffer = the batch-buffer store's record with its image, as "
                + "buffer.changelog=records logs what is still buffered at a commit (offsets, the default, log it "
                + "without); labels = one output record)");
    }

    private static ImageLabels sampleLabels() {
        List<Label> top = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            top.add(new Label(i, "label " + i, 0.2f - i * 0.01f, null));
        }
        return ImageLabels.newBuilder().setId("img-0").setLabels(top)
                .setModel(new ModelIdentity("resnet50", "1", "0".repeat(64)))
                .setRecipe(new RecipeIdentity("imagenet", "0".repeat(16))).setFlags(List.of()).setBatchSize(8)
                .setTimings(new Timings(12.0, 3.0, 300.0)).setSource(new SourceCoordinates("images", 0, 0L))
                .setLabeledAt(Instant.now()).setFromCache(false).build();
    }

    /**
     * Median over rounds of the CPU µs per call, each round at least 0.3 s of CPU, after 0.5 s of warm-up: the
     * JIT's optimizing compiler takes thousands of calls, and a short warm-up measured partly interpreted code.
     */
    private static double median(int rounds, Step step) throws Exception {
        callFor(500_000_000L, step);
        double[] perCall = new double[rounds];
        for (int r = 0; r < rounds; r++) {
            long t0 = THREADS.getCurrentThreadCpuTime();
            int calls = callFor(300_000_000L, step);
            perCall[r] = (THREADS.getCurrentThreadCpuTime() - t0) / 1e3 / calls;
        }
        return new Samples(perCall).median();
    }

    private static int callFor(long cpuNanos, Step step) throws Exception {
        long t0 = THREADS.getCurrentThreadCpuTime();
        int calls = 0;
        while (THREADS.getCurrentThreadCpuTime() - t0 < cpuNanos) {
            for (int k = 0; k < 16; k++) { // the clock itself costs about a microsecond
                step.run(calls++);
            }
        }
        return calls;
    }
}
