package io.labelstream.model;

/**
 * One model as the engine serves it: its sessions, with the inference and postprocessing built on them. A model
 * that is replaced ({@link LabelingEngine#swap}) is retired, not closed: the {@link ModelSet}s that contain it hold
 * a {@link Lease} on it until nothing uses them, and the last lease to close closes its native sessions, which must
 * never be closed under a running call.
 */
public final class ServingModel {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ServingModel.class);

    private final LoadedModel model;
    private final BisectingInference inference;
    private final Postprocessor postprocessing;
    private final int topK;
    private final LeaseCount leases = new LeaseCount(this::close);

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

    /** Holds the model open until the lease is closed; null when it has been retired and closed already. */
    public Lease tryLease() {
        return leases.tryLease();
    }

    /** No new user will take it: it closes now if no lease is open, else when the last one closes. */
    void retire() {
        leases.retire();
    }

    /** Closes the sessions whatever leases are open; for the engine's own close, once no batch runs. */
    void closeNow() {
        leases.releaseNow();
    }

    public boolean isClosed() {
        return leases.isReleased();
    }

    private void close() {
        log.info("Closing model {} (sha256 {}): nothing uses it any more", identity().name(), identity().sha256());
        model.close();
    }

    @Override
    public String toString() {
        return identity().name() + " " + identity().versionOrUnknown() + " " + identity().sha256();
    }
}
