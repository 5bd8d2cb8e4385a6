package io.labelstream.stream;

import io.labelstream.model.BatchOutcome;
import io.labelstream.model.LabelSet;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.Lease;
import io.labelstream.model.ModelId;
import io.labelstream.model.ModelSet;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/** The engine as the batching stage sees it: its current {@link ModelSet}, and batches run on its workers. */
record EngineLabeler(LabelingEngine engine) implements Labeler {

    /** A model set, compared by identity: a reload makes a new one. */
    record Snapshot(ModelSet set) implements Models {

        @Override
        public Lease tryLease() {
            return set.tryLease();
        }

        @Override
        public ModelId primary() {
            return set.primary().identity();
        }

        @Override
        public LabelSet primaryLabels() {
            return set.primary().model().labels();
        }

        @Override
        public Map<String, LabelSet> sideLabels() {
            return set.sideLabels();
        }
    }

    @Override
    public Models current() {
        return new Snapshot(engine.models());
    }

    @Override
    public CompletableFuture<BatchOutcome> submit(Models models, List<byte[]> images, int capacity) {
        return engine.submit(((Snapshot) models).set(), images, capacity);
    }

    @Override
    public boolean hasIdleWorker() {
        return engine.hasIdleWorker();
    }

    @Override
    public Duration typicalBatchTime() {
        return engine.typicalBatchTime();
    }
}
