package io.labelstream.stream;

import io.labelstream.model.BatchOutcome;
import io.labelstream.model.LabelSet;
import io.labelstream.model.Lease;
import io.labelstream.model.ModelId;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * What the batching stage needs of the models and the engine that runs them, and no more: so that the stage's
 * policy (batching, order, back-pressure, model switches) is tested without ONNX Runtime. {@link EngineLabeler} is
 * the engine's.
 */
interface Labeler {

    /** The models new work is labeled with now; replaced when a model is reloaded. */
    Models current();

    /**
     * Labels {@code images} with {@code models}, which the caller holds until the batch completes; the outcomes are in
     * the images' order.
     *
     * @param capacity the largest batch the caller ever submits (the engine sizes its buffers by it)
     */
    CompletableFuture<BatchOutcome> submit(Models models, List<byte[]> images, int capacity);

    /** Whether a batch submitted now would start at once. */
    boolean hasIdleWorker();

    /** How long a typical batch takes to run, for queueing a partial batch behind a busy engine. */
    Duration typicalBatchTime();

    /**
     * One snapshot of the models (the primary and the side models), reference-counted: whoever labels with it holds
     * it, and a replaced snapshot lets go of its models when its last holder releases it. Equal snapshots are the
     * same snapshot.
     */
    interface Models {

        /** Holds the snapshot until the lease is closed; null when it has been replaced and let go already. */
        Lease tryLease();

        ModelId primary();

        LabelSet primaryLabels();

        /** Each side model's labels, by name. */
        Map<String, LabelSet> sideLabels();
    }
}
