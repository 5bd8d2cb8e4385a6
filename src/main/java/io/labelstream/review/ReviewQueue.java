package io.labelstream.review;

import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReview;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The flagged images not yet decided, in the order they were flagged, and the decisions taken: what every open
 * console shows. An image's first decision is the one that counts; a second is refused naming who took the first.
 * Flags and decisions may arrive in either order (they come from two topics), so a flag whose image was already
 * decided never enters the queue.
 */
public final class ReviewQueue {

    /** What a reviewer asking to decide an image gets. */
    public sealed interface Claim permits Granted, Refused {
    }

    /** The image is the reviewer's to decide: write the decision, then {@link #decided} or {@link #release}. */
    public record Granted(ImageLabels item) implements Claim {
    }

    public record Refused(String reason) implements Claim {
    }

    private final Map<String, ImageLabels> undecided = new LinkedHashMap<>();
    private final Map<String, ImageReview> decisions = new HashMap<>();
    /** Images whose decision is being written, to the reviewer writing it. */
    private final Map<String, String> pending = new HashMap<>();

    /** A flagged image read from the flagged topic; ignored when it was decided, or is already queued. */
    public synchronized void flagged(ImageLabels labels) {
        if (!decisions.containsKey(labels.getId())) {
            undecided.putIfAbsent(labels.getId(), labels);
        }
    }

    /**
     * A decision read back from the reviews topic, or just written: the image leaves the queue. Only the first
     * decision on an image is kept; returns whether this one was it.
     */
    public synchronized boolean decided(ImageReview review) {
        String id = review.getId();
        undecided.remove(id);
        pending.remove(id);
        return decisions.putIfAbsent(id, review) == null;
    }

    /** Reserves {@code id} for {@code reviewer}'s decision, or says why it cannot be decided. */
    public synchronized Claim claim(String id, String reviewer) {
        ImageReview first = decisions.get(id);
        if (first != null) {
            return alreadyDecided(first);
        }
        String deciding = pending.get(id);
        if (deciding != null) {
            return new Refused(id + " is being decided by " + deciding);
        }
        ImageLabels item = undecided.get(id);
        if (item == null) {
            return new Refused("no flagged image " + id + " is waiting for a decision");
        }
        pending.put(id, reviewer);
        return new Granted(item);
    }

    /** The refusal of a decision on an image that {@code first} decided already, naming who took it. */
    public static Refused alreadyDecided(ImageReview first) {
        return new Refused(first.getId() + " was already decided by " + first.getReviewer() + " ("
                + first.getDecision() + (first.getLabel().isEmpty() ? "" : " " + first.getLabel()) + ")");
    }

    /** The first decision known on image {@code id}. */
    public synchronized Optional<ImageReview> decision(String id) {
        return Optional.ofNullable(decisions.get(id));
    }

    /** Gives back a claimed image whose decision could not be written, for anyone to decide again. */
    public synchronized void release(String id) {
        pending.remove(id);
    }

    /** The images waiting for a decision, oldest flag first (those being decided included). */
    public synchronized List<ImageLabels> undecided() {
        return new ArrayList<>(undecided.values());
    }

    public synchronized Optional<ImageLabels> item(String id) {
        return Optional.ofNullable(undecided.get(id));
    }

    public synchronized int depth() {
        return undecided.size();
    }
}
