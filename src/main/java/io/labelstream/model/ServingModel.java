package io.labelstream.model;

/**
 * One model as the engine serves it: its sessions, with the inference and postprocessing built on them. A model
 * that is replaced ({@link LabelingEngine#swap}) is retired, not closed: the {@link ModelSet}s that contain it hold
 * it ({@link #tryAcquire}) until nothing uses them, and the last {@link #release} closes its native sessions, which
 * must never be closed under a running call.
 */
public final class ServingModel {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ServingModel.class);

    private final LoadedModel model;
    private final BisectingInference inference;
    private final Postprocessor postprocessing;
    private final int topK;
    private int holders;
    private boolean retired;
    private boolean closed;

    ServingModel(LoadedModel model, int topK, Scores.OutputKind outputKind) {
        this.model = model;
        this.inference = new BisectingInference(model.inferencePool());
        this.postprocessing = new Postprocessor(model.labels(), model.classes(), topK, outputKind);
        this.topK = topK;
    }

    /** Labels it writes per image. */
    int topK() {
        return topK;
    }

    public LoadedModel model() {
        return model;
    }

    public ModelId identity() {
        return model.identity();
    }

    BisectingInference inference() {
        return inference;
    }

    Postprocessor postprocessing() {
        return postprocessing;
    }

    /** Holds the model open until {@link #release}; false when it has been retired and closed already. */
    public synchronized boolean tryAcquire() {
        if (closed) {
            return false;
        }
        holders++;
        return true;
    }

    public void release() {
        boolean closeNow;
        synchronized (this) {
            if (holders <= 0) {
                throw new IllegalStateException("released more often than acquired: " + identity());
            }
            holders--;
            closeNow = retired && holders == 0 && !closed;
            closed |= closeNow;
        }
        if (closeNow) {
            closeRetired();
        }
    }

    /** No new user will take it: it closes now if nobody holds it, else when the last holder releases it. */
    void retire() {
        boolean closeNow;
        synchronized (this) {
            retired = true;
            closeNow = holders == 0 && !closed;
            closed |= closeNow;
        }
        if (closeNow) {
            closeRetired();
        }
    }

    /** Closes the sessions whoever holds them; for the engine's own close, once no batch runs. */
    void closeNow() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        model.close();
    }

    synchronized boolean isClosed() {
        return closed;
    }

    private void closeRetired() {
        log.info("Closing replaced model {} (sha256 {}): nothing uses it any more", identity().name(),
                identity().sha256());
        model.close();
    }

    @Override
    public String toString() {
        return identity().name() + " " + identity().versionOrUnknown() + " " + identity().sha256();
    }
}
