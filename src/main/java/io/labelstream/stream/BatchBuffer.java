package io.labelstream.stream;

import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * A task's waiting records, kept in a changelogged key-value store so that a crash loses nothing: the store is
 * restored from its changelog before the task resumes, and the restored records are labeled then.
 *
 * <p>A record is <em>pending</em> until it is taken for a batch, then <em>in flight</em> until its batch is
 * emitted and {@link #remove removed}; both kinds stay in the store, so a crash with a batch in flight labels it
 * again from the changelog. The store is only written while the task runs: pending records are also held in
 * memory, with the event already decoded at intake, and read back from the store only when the task starts
 * (everything restored is pending again). Keys are a per-task sequence number; the store's big-endian long keys
 * iterate in arrival order.
 */
final class BatchBuffer {

    /** @param event the decoded event, or null for a record restored from the changelog */
    record Entry(long key, BufferedRecord record, ImageEvent event) {
    }

    private final KeyValueStore<Long, BufferedRecord> store;
    private final ArrayDeque<Entry> pending = new ArrayDeque<>();
    private int inFlight;
    private long nextSequence;

    BatchBuffer(KeyValueStore<Long, BufferedRecord> store) {
        this.store = store;
        try (KeyValueIterator<Long, BufferedRecord> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<Long, BufferedRecord> entry = all.next();
                pending.add(new Entry(entry.key, entry.value, null));
                nextSequence = entry.key + 1;
            }
        }
    }

    void add(BufferedRecord record, ImageEvent event) {
        store.put(nextSequence, record);
        pending.add(new Entry(nextSequence++, record, event));
    }

    int size() {
        return pending.size() + inFlight;
    }

    int pending() {
        return pending.size();
    }

    /** True when the oldest pending record has waited at least {@code delayMs} by {@code now}. */
    boolean oldestPendingWaited(long now, long delayMs) {
        return !pending.isEmpty() && now - pending.peek().record().getBufferedAt() >= delayMs;
    }

    /** Takes the next {@code max} pending records, in arrival order; they stay stored until {@link #remove}. */
    List<Entry> takePending(int max) {
        List<Entry> batch = new ArrayList<>(Math.min(max, pending.size()));
        while (batch.size() < max && !pending.isEmpty()) {
            batch.add(pending.poll());
        }
        inFlight += batch.size();
        return batch;
    }

    /**
     * Deletes an emitted batch (the oldest in flight); under exactly-once the deletes commit atomically with the
     * batch's output.
     */
    void remove(List<Entry> batch) {
        for (Entry entry : batch) {
            store.delete(entry.key());
        }
        inFlight -= batch.size();
        if (size() == 0) {
            // An empty buffer restarts numbering, so sequence numbers never run out.
            nextSequence = 0;
        }
    }
}
