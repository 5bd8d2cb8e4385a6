package io.labelstream.model;

import io.labelstream.image.ImagePreprocessor;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The models a batch runs, as one snapshot: the primary and the side models, in order. Replacing any of them
 * makes a new set ({@link ServedModels#swap}, {@link ServedModels#swapSide}), so a batch, and a task across its
 * batches, sees one consistent set from start to end. Whoever uses a set holds a {@link Lease} on it; a replaced
 * set closes its leases on its models once no lease on it is open, and a replaced model closes once no set holds it.
 */
public final class ModelSet {

    /** A side model: a name the configuration gives it, the model, and the preprocessing its input takes. */
    public record SideModel(String name, ServingModel serving, ImagePreprocessor preprocessor) {
    }

    private final ServingModel primary;
    private final List<SideModel> sides;
    private final List<Lease> modelLeases = new ArrayList<>();
    private final LeaseCount leases = new LeaseCount(() -> modelLeases.forEach(Lease::close));

    /** Holds each of its models until it is retired and its last lease is closed. */
    ModelSet(ServingModel primary, List<SideModel> sides) {
        this.primary = primary;
        this.sides = List.copyOf(sides);
        hold(primary);
        sides.forEach(side -> hold(side.serving()));
    }

    private void hold(ServingModel model) {
        Lease lease = model.tryLease();
        if (lease == null) {
            modelLeases.forEach(Lease::close);
            throw new IllegalStateException("model " + model + " is closed already");
        }
        modelLeases.add(lease);
    }

    public ServingModel primary() {
        return primary;
    }

    /** The side models, in the order they were added. */
    public List<SideModel> sides() {
        return sides;
    }

    /** This set with {@code primary} instead of its primary. */
    ModelSet withPrimary(ServingModel newPrimary) {
        return new ModelSet(newPrimary, sides);
    }

    /** This set with {@code side} added, or replacing the side model of the same name. */
    ModelSet withSide(SideModel side) {
        List<SideModel> next = new ArrayList<>(sides);
        next.replaceAll(s -> s.name().equals(side.name()) ? side : s);
        if (next.stream().noneMatch(s -> s == side)) {
            next.add(side);
        }
        return new ModelSet(primary, next);
    }

    /** Each side model's class names, by name, in the order the models were added. */
    public Map<String, LabelSet> sideLabels() {
        Map<String, LabelSet> labels = new LinkedHashMap<>();
        sides.forEach(side -> labels.put(side.name(), side.serving().model().labels()));
        return labels;
    }

    /** The side model of that name, or null. */
    public SideModel side(String name) {
        return sides.stream().filter(s -> s.name().equals(name)).findFirst().orElse(null);
    }

    /** Holds the set (and so its models) until the lease is closed; null when it has been replaced and let go. */
    public Lease tryLease() {
        return leases.tryLease();
    }

    /** No new user takes it: it lets go of its models now if no lease is open, else when the last one closes. */
    void retire() {
        leases.retire();
    }
}
