package io.labelstream.testing;

import java.util.AbstractList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A batch's images that the engine cannot read until the test says so: every {@link #get} waits for
 * {@link #release}. Handed to {@code LabelingEngine.submit}, it keeps that batch in the engine, on a batch thread,
 * for exactly as long as a test needs another task's batch to be there. The wait is bounded (a minute) so that a
 * failing test cannot hang the build.
 */
public final class HeldBatch extends AbstractList<byte[]> {

    private final byte[] image;
    private final int size;
    private final CountDownLatch released = new CountDownLatch(1);
    private final CountDownLatch reached = new CountDownLatch(1);

    public HeldBatch(byte[] image, int size) {
        this.image = image;
        this.size = size;
    }

    public void release() {
        released.countDown();
    }

    /** Waits (a minute at most) until the engine has started reading this batch, so its clock is running. */
    public void awaitReached() throws InterruptedException {
        if (!reached.await(60, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the engine never started this batch");
        }
    }

    @Override
    public byte[] get(int index) {
        reached.countDown();
        try {
            if (!released.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("the test never released this batch");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
        return image;
    }

    @Override
    public int size() {
        return size;
    }
}
