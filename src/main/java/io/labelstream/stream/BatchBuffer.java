package io.labelstream.stream;

import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.util.ArrayList;
import java.util.List;

/**
 * A task's waiting records, kept in a changelogged key-value store so that a crash loses nothing: the store is
 * restored from its changelog before the task resumes, and the restored records are labeled then.
 *
 * <p>A record is <em>pending</em> until it is taken for a batch, then <em>in flight</em> until its batch is
 * emitted and {@link #remove removed}; both kinds stay in the store, so a crash with a batch in flight labels it
 * again from the changelog. Keys are a per-task sequence number; the store's big-endian long keys iterate in
 * arrival order. Counts and the oldest pending arrival time are mirrored in memory and rebuilt from the store when
 * the task starts (everything restored is pending again).
 */
final class BatchBuffer {

    private final KeyValueStore<Long, BufferedRecord> store;
    private long nextSequence;
    private long nextPending;
    private int size;
    private int inFlight;
    private long oldestPendingAt = Long.MAX_VALUE;

    BatchBuffer(KeyValueStore<Long, BufferedRecord> store) {
        this.store = store;
        try (KeyValueIterator<Long, BufferedRecord> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<Long, BufferedRecord> entry = all.next();
                if (size == 0) {
                    oldestPendingAt = entry.value.getBufferedAt();
                    nextPending = entry.key;
                }
                nextSequence = entry.key + 1;
                size++;
            }
        }
    }

    void add(BufferedRecord record) {
        store.put(nextSequence++, record);
        if (pending() == 0) {
            oldestPendingAt = record.getBufferedAt();
        }
        size++;
    }

    int size() {
        return size;
    }

    int pending() {
        return size - inFlight;
    }

    /** True when the oldest pending record has waited at least {@code delayMs} by {@code now}. */
    boolean oldestPendingWaited(long now, long delayMs) {
        return pending() > 0 && now - oldestPendingAt >= delayMs;
    }

    /**
     * Takes the next {@code max} pending records, in arrival order, for a batch; they stay in the store until
     * {@link #remove}.
     */
    List<KeyValue<Long, BufferedRecord>> takePending(int max) {
        List<KeyValue<Long, BufferedRecord>> batch = new ArrayList<>(Math.min(max, pending()));
        try (KeyValueIterator<Long, BufferedRecord> next = store.range(nextPending, Long.MAX_VALUE)) {
            while (next.hasNext() && batch.size() < max) {
                batch.add(next.next());
            }
            oldestPendingAt = next.hasNext() ? next.next().value.getBufferedAt() : Long.MAX_VALUE;
        }
        inFlight += batch.size();
        if (!batch.isEmpty()) {
            nextPending = batch.get(batch.size() - 1).key + 1;
        }
        return batch;
    }

    /**
     * Deletes an emitted batch (the oldest in flight); under exactly-once the deletes commit atomically with the
     * batch's output.
     */
    void remove(List<KeyValue<Long, BufferedRecord>> batch) {
        for (KeyValue<Long, BufferedRecord> entry : batch) {
            store.delete(entry.key);
        }
        size -= batch.size();
        inFlight -= batch.size();
        if (size == 0) {
            // An empty buffer restarts numbering, so sequence numbers never run out.
            nextSequence = 0;
            nextPending = 0;
        }
    }
}
