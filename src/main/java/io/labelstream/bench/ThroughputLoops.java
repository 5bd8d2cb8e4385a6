package io.labelstream.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import io.labelstream.image.ImageDecoder;
import io.labelstream.image.ImageLimits;
import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.PreprocessRecipe;
import io.labelstream.model.LabelingEngine;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * The three in-process loops of the side-by-side benchmark, each timed over the same number of images: the bare
 * ONNX Runtime loop on a pre-made tensor (the ceiling), the engine from JPEG bytes, and a peer library from the
 * same bytes. Each does two untimed batches first.
 */
final class ThroughputLoops {

    /**
     * One timed loop: its speed, and this process's CPU per image over it (all of its threads, ONNX Runtime's
     * included; a benchmark that wants it to be the loop's own runs no broker in this process).
     */
    record Measured(double imagesPerSecond, double cpuMsPerImage) {

        /** {@code images} done since {@code startNanos} (System.nanoTime) and {@code startCpuNanos} ({@link #cpuNanos}). */
        static Measured since(int images, long startNanos, long startCpuNanos) {
            double seconds = (System.nanoTime() - startNanos) / 1e9;
            return new Measured(images / seconds, (cpuNanos() - startCpuNanos) / 1e6 / images);
        }

        /** Two loops over the same number of images as one: CPU per image averaged, speed over their joint time. */
        static Measured pooled(Measured a, Measured b) {
            return new Measured(2 / (1 / a.imagesPerSecond + 1 / b.imagesPerSecond),
                    (a.cpuMsPerImage + b.cpuMsPerImage) / 2);
        }
    }

    /** This process's CPU time so far, all threads (ONNX Runtime's native ones included), in nanoseconds. */
    static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private ThroughputLoops() {
    }

    /** A bare session with the engine's own options, fed one tensor of real preprocessed images. */
    static final class Ceiling implements AutoCloseable {
        private final OrtSession session;
        private final OnnxTensor input;
        private final int batch;

        Ceiling(Path model, int batch, int threads, byte[] sampleJpeg) throws Exception {
            OrtEnvironment env = OrtEnvironment.getEnvironment();
            float[] values = new float[PreprocessRecipe.IMAGENET.valuesPerImage()];
            new ImagePreprocessor(PreprocessRecipe.IMAGENET, new ImageDecoder(ImageLimits.defaults()))
                    .preprocess(sampleJpeg, values);
            FloatBuffer buffer = ByteBuffer.allocateDirect(batch * values.length * 4).order(ByteOrder.nativeOrder())
                    .asFloatBuffer();
            for (int i = 0; i < batch; i++) {
                buffer.put(i * values.length, values);
            }
            try (OrtSession.SessionOptions options = new io.labelstream.model.SessionSettings(threads).toOrtOptions(
                    OrtSession.SessionOptions.OptLevel.ALL_OPT, threads)) {
                this.session = env.createSession(model.toString(), options);
            }
            this.input = OnnxTensor.createTensor(env, buffer, new long[] {batch, 3, 224, 224});
            this.batch = batch;
        }

        double imagesPerSecond(int batches) throws Exception {
            return measure(batches).imagesPerSecond();
        }

        Measured measure(int batches) throws Exception {
            return timed(batches, batch, () -> {
                try (OrtSession.Result result = session.run(Map.of("input", input))) {
                    ((OnnxTensor) result.get(0)).getFloatBuffer();
                }
            });
        }

        @Override
        public void close() throws Exception {
            input.close();
            session.close();
        }
    }

    /**
     * The engine as the pipeline drives it: batches are submitted with {@code inFlight} of them in the engine at
     * once, so decoding overlaps inference.
     */
    static Measured engine(LabelingEngine engine, List<byte[]> jpegs, int batch, int batches, int inFlight) {
        int[] cursor = {0};
        for (int i = 0; i < 2; i++) {
            engine.submit(slice(jpegs, cursor, batch), batch).join();
        }
        ArrayDeque<CompletableFuture<io.labelstream.model.BatchOutcome>> running = new ArrayDeque<>();
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
            if (running.size() >= inFlight) {
                running.poll().join();
            }
            running.add(engine.submit(slice(jpegs, cursor, batch), batch));
        }
        running.forEach(CompletableFuture::join);
        return Measured.since(batches * batch, t0, cpu0);
    }

    static double peer(PeerEngine peer, List<byte[]> jpegs, int batch, int batches) throws Exception {
        int[] cursor = {0};
        return timed(batches, batch, () -> peer.classify(slice(jpegs, cursor, batch))).imagesPerSecond();
    }

    interface Step {
        void run() throws Exception;
    }

    private static Measured timed(int batches, int batch, Step step) throws Exception {
        step.run();
        step.run();
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        for (int i = 0; i < batches; i++) {
            step.run();
        }
        return Measured.since(batches * batch, t0, cpu0);
    }

    static List<byte[]> slice(List<byte[]> all, int[] cursor, int n) {
        List<byte[]> batch = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            batch.add(all.get(cursor[0]++ % all.size()));
        }
        return batch;
    }
}
