package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ImageRejectedException;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The first part of labeling a batch: decodes and preprocesses its images in parallel, each straight into its slot
 * of the batch tensor, then closes the gaps that rejected images left so the model sees a dense batch. An image
 * that cannot be decoded is rejected on its own; it never fails its neighbours.
 */
final class BatchPreprocessor implements AutoCloseable {

    /**
     * The batch as the model will see it.
     *
     * @param images     how many images are in the tensor, in slots 0 … images − 1
     * @param slotOf     per input position, the image's slot in the tensor, or −1 when it was rejected
     * @param rejections per input position, why the image was rejected, or null
     */
    record DenseBatch(int images, int[] slotOf, ImageOutcome.Rejected[] rejections) {
    }

    private final ImagePreprocessor preprocessor;
    /** Null when one thread preprocesses: the caller's. */
    private final ExecutorService pool;
    private final ThreadLocal<float[]> scratch;

    BatchPreprocessor(ImagePreprocessor preprocessor, int threads, int valuesPerImage) {
        this.preprocessor = preprocessor;
        AtomicInteger counter = new AtomicInteger();
        this.pool = threads <= 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "labelstream-preprocess-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.scratch = ThreadLocal.withInitial(() -> new float[valuesPerImage]);
    }

    ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    DenseBatch preprocess(List<byte[]> images, TensorBatch batch) {
        if (images.size() > batch.capacity()) {
            throw new IllegalArgumentException("batch of " + images.size() + " exceeds the tensor's " + batch.capacity());
        }
        ImageOutcome.Rejected[] rejections = preprocessAll(images, batch);
        int[] slotOf = new int[images.size()];
        int slots = 0;
        for (int i = 0; i < images.size(); i++) {
            if (rejections[i] != null) {
                slotOf[i] = -1;
                continue;
            }
            if (slots != i) {
                batch.move(i, slots);
            }
            slotOf[i] = slots++;
        }
        return new DenseBatch(slots, slotOf, rejections);
    }

    /** Preprocesses image i into slot i; returns a rejection per failed image and null for the others. */
    private ImageOutcome.Rejected[] preprocessAll(List<byte[]> images, TensorBatch batch) {
        ImageOutcome.Rejected[] rejections = new ImageOutcome.Rejected[images.size()];
        if (pool == null || images.size() == 1) {
            for (int i = 0; i < images.size(); i++) {
                rejections[i] = preprocessOne(images.get(i), batch, i);
            }
            return rejections;
        }
        List<Callable<ImageOutcome.Rejected>> tasks = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            int slot = i;
            tasks.add(() -> preprocessOne(images.get(slot), batch, slot));
        }
        try {
            List<Future<ImageOutcome.Rejected>> done = pool.invokeAll(tasks);
            for (int i = 0; i < done.size(); i++) {
                rejections[i] = done.get(i).get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while preprocessing a batch", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("preprocessing failed unexpectedly", e.getCause());
        }
        return rejections;
    }

    private ImageOutcome.Rejected preprocessOne(byte[] image, TensorBatch batch, int slot) {
        float[] values = scratch.get();
        try {
            preprocessor.preprocess(image, values);
        } catch (ImageRejectedException e) {
            return new ImageOutcome.Rejected(e.reason(), e.getMessage());
        }
        batch.write(slot, values);
        return null;
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
