package io.labelstream.stream;

import io.labelstream.model.Lease;
import io.labelstream.model.ModelId;
import io.labelstream.schema.ModelIdentity;

/**
 * The models one task labels with (a {@link Labeler.Models}: the primary and the side models), and what depends on them:
 * the identity its output records carry, the moderation rules resolved against their labels, and the dedup
 * cache's context. When any of the engine's models is replaced ({@code model.reload=watch}), the task keeps the old
 * set until nothing in its buffer has been or is being
 * labeled by it, and then takes the new one. Records leave the buffer in input order, so each partition's outputs
 * change model exactly once: no record labeled by the old model follows one labeled by the new. Until the switch
 * only items ahead of the last one the old model labels may join a batch (they must be labeled by it too, or the
 * buffer's head could never leave); the others wait, about a batch time.
 *
 * <p>The task holds a lease on its set ({@link Labeler.Models#tryLease}) while its buffer has items its models label, so a
 * replaced model stays open for them, and closes once no task and no batch uses it.
 */
final class TaskModel {

    private final Labeler labeler;
    private final ModerationRules configuredRules;
    private final String recipeHash;
    private Labeler.Models model;
    /** The task's hold on {@link #model}; null while nothing in its buffer needs it. */
    private Lease lease;
    private ModelIdentity identity;
    private ModerationRules rules;
    private String dedupContext;

    TaskModel(Labeler labeler, ModerationRules configuredRules, String recipeHash) {
        this.labeler = labeler;
        this.configuredRules = configuredRules;
        this.recipeHash = recipeHash;
        adopt(labeler.current());
    }

    private void adopt(Labeler.Models next) {
        model = next;
        identity = Records.modelIdentity(next.primary());
        // Checked before the swap (the reloader refuses a model whose labels the rules do not fit).
        rules = configuredRules.forModels(next.primaryLabels(), next.sideLabels());
        // The cache answers only for the same bytes through the same model, recipe and moderation rules.
        dedupContext = identity.getSha256() + "|" + recipeHash + "|" + rules;
    }

    /**
     * Takes the engine's current model if nothing in {@code buffer} is labeled by the task's, and lets go of the
     * task's model when nothing in the buffer uses it.
     *
     * @return the sequence number before which ready items may join a batch; {@link Long#MAX_VALUE} for all
     */
    long follow(BatchBuffer buffer) {
        long lastLabeledHere = buffer.lastSequenceWhere(TaskModel::labeledByTaskModel);
        if (lastLabeledHere < 0) {
            close();
        }
        Labeler.Models current = labeler.current();
        if (current.equals(model)) {
            return Long.MAX_VALUE;
        }
        if (lastLabeledHere >= 0) {
            return lastLabeledHere;
        }
        adopt(current);
        return Long.MAX_VALUE;
    }

    /** In a batch, or labeled: by the task's model, since the task switches only when no such item is left. */
    private static boolean labeledByTaskModel(BatchItem item) {
        return item.stage() == BatchItem.Stage.IN_BATCH || item.outcome() instanceof BatchItem.Inferred
                || item.outcome() instanceof BatchItem.Cached;
    }

    /**
     * The task's model, held for an item about to be labeled by it (a batch or a cache answer). A replaced model
     * that has closed is no longer held by anything of this task, so the task takes the current one.
     */
    Labeler.Models hold() {
        while (lease == null) {
            lease = model.tryLease();
            if (lease == null) {
                adopt(labeler.current());
            }
        }
        return model;
    }

    ModelIdentity identity() {
        return identity;
    }

    ModelId modelId() {
        return model.primary();
    }

    ModerationRules rules() {
        return rules;
    }

    String dedupContext() {
        return dedupContext;
    }

    void close() {
        if (lease != null) {
            lease.close();
            lease = null;
        }
    }
}
