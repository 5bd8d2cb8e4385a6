package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;
import io.labelstream.image.ImageRejectedException;
import io.labelstream.image.RgbPixels;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The first part of labeling a batch: decodes each image once and preprocesses it, by every recipe the batch's
 * models need, straight into its slot of each recipe's batch tensor, in parallel over the images; then closes the
 * gaps that rejected images left so every model sees a dense batch. An image that cannot be decoded is rejected on
 * its own; it never fails its neighbours.
 */
final class BatchPreprocessor implements AutoCloseable {

    /**
     * The batch as the models will see it, the same slots in every tensor.
     *
     * @param images     how many images are in the tensor, in slots 0 … images − 1
     * @param slotOf     per input position, the image's slot in the tensor, or −1 when it was rejected
     * @param rejections per input position, why the image was rejected, or null
     * @param sizes      per input position {@code i}, from {@code 4i}: the decoded image's width and height, then
     *                   its source's (larger after a reduced decode); 0 for a rejected one. What a class
     *                   activation map's box is mapped back to
     */
    record DenseBatch(int images, int[] slotOf, ImageOutcome.Rejected[] rejections, int[] sizes) {
    }

    /** A recipe and the tensor it fills; the first target's preprocessor also decodes. */
    record Target(ImagePreprocessor preprocessor, TensorBatch tensor) {
    }

    private final ImagePreprocessor preprocessor;
    /** Null when one thread preprocesses: the caller's. */
    private final ExecutorService pool;
    /** One image's values by any of the batch's recipes, grown to the largest; a tensor takes its own count. */
    private final ThreadLocal<float[]> scratch = ThreadLocal.withInitial(() -> new float[0]);

    BatchPreprocessor(ImagePreprocessor preprocessor, int threads) {
        this.preprocessor = preprocessor;
        AtomicInteger counter = new AtomicInteger();
        this.pool = threads <= 1 ? null : Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "labelstream-preprocess-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /** The primary's preprocessing, which decodes for every recipe. */
    ImagePreprocessor preprocessor() {
        return preprocessor;
    }

    /**
     * Decodes each image once, at the size the most demanding recipe needs (full resolution when any needs it),
     * and writes it into every target's tensor.
     */
    DenseBatch preprocess(List<byte[]> images, List<Target> targets) {
        for (Target target : targets) {
            if (images.size() > target.tensor().capacity()) {
                throw new IllegalArgumentException("batch of " + images.size() + " exceeds the tensor's "
                        + target.tensor().capacity());
            }
        }
        int decodeSide = decodeShorterSide(targets);
        int[] sizes = new int[4 * images.size()];
        ImageOutcome.Rejected[] rejections = preprocessAll(images, targets, decodeSide, sizes);
        int[] slotOf = new int[images.size()];
        int slots = 0;
        for (int i = 0; i < images.size(); i++) {
            if (rejections[i] != null) {
                slotOf[i] = -1;
                continue;
            }
            if (slots != i) {
                for (Target target : targets) {
                    target.tensor().move(i, slots);
                }
            }
            slotOf[i] = slots++;
        }
        return new DenseBatch(slots, slotOf, rejections, sizes);
    }

    /** The largest shorter side any target needs, or 0 (full resolution) when one of them needs that. */
    private static int decodeShorterSide(List<Target> targets) {
        int side = 0;
        for (Target target : targets) {
            int needed = target.preprocessor().decodeShorterSide();
            if (needed == 0) {
                return 0;
            }
            side = Math.max(side, needed);
        }
        return side;
    }

    /** Preprocesses image i into slot i; returns a rejection per failed image and null for the others. */
    private ImageOutcome.Rejected[] preprocessAll(List<byte[]> images, List<Target> targets, int decodeSide,
                                                  int[] sizes) {
        ImageOutcome.Rejected[] rejections = new ImageOutcome.Rejected[images.size()];
        if (pool == null || images.size() == 1) {
            for (int i = 0; i < images.size(); i++) {
                rejections[i] = preprocessOne(images.get(i), targets, decodeSide, i, sizes);
            }
            return rejections;
        }
        List<Callable<ImageOutcome.Rejected>> tasks = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            int slot = i;
            tasks.add(() -> preprocessOne(images.get(slot), targets, decodeSide, slot, sizes));
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

    private ImageOutcome.Rejected preprocessOne(byte[] image, List<Target> targets, int decodeSide, int slot,
                                                int[] sizes) {
        RgbPixels pixels;
        try {
            pixels = preprocessor.decode(image, decodeSide);
        } catch (ImageRejectedException e) {
            return new ImageOutcome.Rejected(e.reason(), e.getMessage());
        }
        sizes[4 * slot] = pixels.width();
        sizes[4 * slot + 1] = pixels.height();
        sizes[4 * slot + 2] = pixels.sourceWidth();
        sizes[4 * slot + 3] = pixels.sourceHeight();
        for (Target target : targets) {
            float[] values = scratch(target.preprocessor().recipe().valuesPerImage());
            target.preprocessor().preprocess(pixels, values);
            target.tensor().write(slot, values);
        }
        return null;
    }

    private float[] scratch(int size) {
        float[] current = scratch.get();
        if (current.length < size) {
            current = new float[size];
            scratch.set(current);
        }
        return current;
    }

    @Override
    public void close() {
        if (pool != null) {
            pool.shutdownNow();
        }
    }
}
