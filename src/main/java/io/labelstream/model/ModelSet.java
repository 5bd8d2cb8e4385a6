package io.labelstream.model;

import java.util.List;

/**
 * The models a batch runs, as one snapshot: the primary and the side models, in order. Replacing any of them
 * makes a new set ({@link LabelingEngine#swap}, {@link LabelingEngine#swapSide}), so a batch, and a task across its
 * batches, sees one consistent set from start to end. Whoever uses a set holds it ({@link #tryAcquire}); a replaced
 * set lets go of its models once nothing holds it, and a replaced model closes once no set holds it.
 */
public final class ModelSet {

    private final ServingModel primary;
    private final List<LabelingEngine.SideModel> sides;
    private int holders;
    private boolean retired;
    private boolean released;

    /** Holds each of its models until it is retired and released. */
    ModelSet(ServingModel primary, List<LabelingEngine.SideModel> sides) {
        this.primary = primary;
        this.sides = List.copyOf(sides);
        hold(primary);
        sides.forEach(side -> hold(side.serving()));
    }

    private static void hold(ServingModel model) {
        if (!model.tryAcquire()) {
            throw new IllegalStateException("model " + model + " is closed already");
        }
    }

    public ServingModel primary() {
        return primary;
    }

    /** The side models, in the order they were added. */
    public List<LabelingEngine.SideModel> sides() {
        return sides;
    }

    /** This set with {@code primary} instead of its primary. */
    ModelSet withPrimary(ServingModel newPrimary) {
        return new ModelSet(newPrimary, sides);
    }

    /** This set with {@code side} added, or replacing the side model of the same name. */
    ModelSet withSide(LabelingEngine.SideModel side) {
        List<LabelingEngine.SideModel> next = new java.util.ArrayList<>(sides);
        next.replaceAll(s -> s.name().equals(side.name()) ? side : s);
        if (next.stream().noneMatch(s -> s == side)) {
            next.add(side);
        }
        return new ModelSet(primary, next);
    }

    /** Each side model's class names, by name, in the order the models were added. */
    public java.util.Map<String, LabelSet> sideLabels() {
        java.util.Map<String, LabelSet> labels = new java.util.LinkedHashMap<>();
        sides.forEach(side -> labels.put(side.name(), side.serving().model().labels()));
        return labels;
    }

    /** The side model of that name, or null. */
    public LabelingEngine.SideModel side(String name) {
        return sides.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    /** Holds the set (and so its models) until {@link #release}; false when it has been replaced and let go. */
    public synchronized boolean tryAcquire() {
        if (released) {
            return false;
        }
        holders++;
        return true;
    }

    public void release() {
        boolean letGo;
        synchronized (this) {
            if (holders <= 0) {
                throw new IllegalStateException("released more often than acquired");
            }
            holders--;
            letGo = retired && holders == 0 && !released;
            released |= letGo;
        }
        if (letGo) {
            releaseModels();
        }
    }

    /** No new user takes it: it lets go of its models now if nobody holds it, else when the last holder is done. */
    void retire() {
        boolean letGo;
        synchronized (this) {
            retired = true;
            letGo = holders == 0 && !released;
            released |= letGo;
        }
        if (letGo) {
            releaseModels();
        }
    }

    private void releaseModels() {
        primary.release();
        sides.forEach(side -> side.serving().release());
    }
}
