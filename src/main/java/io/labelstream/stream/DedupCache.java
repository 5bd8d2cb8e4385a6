package io.labelstream.stream;

import io.labelstream.schema.Label;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.internal.DedupEntry;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * Labels of images seen before, keyed by the SHA-256 of their bytes together with the model's digest, the recipe
 * hash and the moderation rules, so a cached answer is exactly what inference would give. Both stores are
 * changelogged, so the cache survives restarts and moves with its partition. Bounded by count (oldest entries go
 * first) and by age. Per task: the same image on another partition is labeled again.
 */
final class DedupCache {

    private final KeyValueStore<String, DedupEntry> entries;
    private final KeyValueStore<Long, String> order;
    private final long maxEntries;
    private final long maxAgeMs;
    private long size;
    private long nextSequence;

    DedupCache(KeyValueStore<String, DedupEntry> entries, KeyValueStore<Long, String> order, long maxEntries,
               long maxAgeMs) {
        this.entries = entries;
        this.order = order;
        this.maxEntries = maxEntries;
        this.maxAgeMs = maxAgeMs;
        try (KeyValueIterator<Long, String> all = order.all()) {
            while (all.hasNext()) {
                nextSequence = all.next().key + 1;
                size++;
            }
        }
    }

    /** The SHA-256 of an image's bytes, hex; computed off the stream thread. */
    static String contentDigest(byte[] image) {
        return HexFormat.of().formatHex(sha256().digest(image));
    }

    /**
     * The cache key of an image: its {@link #contentDigest} together with {@code context}, what else the answer
     * depends on (model digest, recipe hash, moderation rules), which can change while the image waits (a model
     * is replaced).
     */
    static String key(String contentDigest, String context) {
        MessageDigest digest = sha256();
        digest.update(contentDigest.getBytes(StandardCharsets.US_ASCII));
        digest.update((byte) '|');
        digest.update(context.getBytes(StandardCharsets.UTF_8));
        return HexFormat.of().formatHex(digest.digest());
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** The cached entry, or null when absent or older than the age limit. */
    DedupEntry get(String key, long now) {
        DedupEntry entry = entries.get(key);
        return entry == null || now - entry.getInsertedAt() > maxAgeMs ? null : entry;
    }

    void put(String key, List<Label> labels, List<ModerationFlag> flags, long now) {
        DedupEntry previous = entries.get(key);
        if (previous != null) {
            order.delete(previous.getSequence());
            size--;
        }
        long sequence = nextSequence++;
        entries.put(key, new DedupEntry(labels, flags, sequence, now));
        order.put(sequence, key);
        size++;
        while (size > maxEntries) {
            evictOldest();
        }
    }

    /** Drops entries past the age limit, oldest first. */
    void expire(long now) {
        while (size > 0) {
            KeyValue<Long, String> oldest = oldest();
            DedupEntry entry = oldest == null ? null : entries.get(oldest.value);
            if (entry != null && now - entry.getInsertedAt() <= maxAgeMs) {
                return;
            }
            evictOldest();
        }
    }

    long size() {
        return size;
    }

    private KeyValue<Long, String> oldest() {
        try (KeyValueIterator<Long, String> all = order.all()) {
            return all.hasNext() ? all.next() : null;
        }
    }

    private void evictOldest() {
        KeyValue<Long, String> oldest = oldest();
        if (oldest == null) {
            size = 0;
            return;
        }
        order.delete(oldest.key);
        DedupEntry entry = entries.get(oldest.value);
        if (entry != null && entry.getSequence() == oldest.key) {
            entries.delete(oldest.value);
        }
        size--;
    }
}
