package io.labelstream.stream;

import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.util.ArrayList;
import java.util.List;

/**
 * A task's batch of waiting records, kept in a changelogged key-value store so that a crash loses nothing: the
 * store is restored from its changelog before the task resumes, and the restored records are labeled then.
 *
 * <p>Keys are a per-task sequence number; the store's big-endian long keys iterate in arrival order. The size and
 * the oldest arrival time are mirrored in memory and rebuilt from the store when the task starts.
 */
final class BatchBuffer {

    private final KeyValueStore<Long, BufferedRecord> store;
    private long nextSequence;
    private int size;
    private long oldestBufferedAt = Long.MAX_VALUE;

    BatchBuffer(KeyValueStore<Long, BufferedRecord> store) {
        this.store = store;
        try (KeyValueIterator<Long, BufferedRecord> all = store.all()) {
            while (all.hasNext()) {
                KeyValue<Long, BufferedRecord> entry = all.next();
                if (size == 0) {
                    oldestBufferedAt = entry.value.getBufferedAt();
                }
                nextSequence = entry.key + 1;
                size++;
            }
        }
    }

    void add(BufferedRecord record) {
        store.put(nextSequence++, record);
        if (size++ == 0) {
            oldestBufferedAt = record.getBufferedAt();
        }
    }

    int size() {
        return size;
    }

    /** True when the oldest waiting record has waited at least {@code delayMs} by {@code now}. */
    boolean oldestWaited(long now, long delayMs) {
        return size > 0 && now - oldestBufferedAt >= delayMs;
    }

    /** The first {@code max} records in arrival order; they stay in the store until {@link #remove}. */
    List<KeyValue<Long, BufferedRecord>> peek(int max) {
        List<KeyValue<Long, BufferedRecord>> batch = new ArrayList<>(Math.min(max, size));
        try (KeyValueIterator<Long, BufferedRecord> all = store.all()) {
            while (all.hasNext() && batch.size() < max) {
                batch.add(all.next());
            }
        }
        return batch;
    }

    /** Deletes a flushed batch; under exactly-once the deletes commit atomically with the batch's output. */
    void remove(List<KeyValue<Long, BufferedRecord>> batch) {
        for (KeyValue<Long, BufferedRecord> entry : batch) {
            store.delete(entry.key);
        }
        size -= batch.size();
        oldestBufferedAt = Long.MAX_VALUE;
        if (size > 0) {
            try (KeyValueIterator<Long, BufferedRecord> all = store.all()) {
                if (all.hasNext()) {
                    oldestBufferedAt = all.next().value.getBufferedAt();
                }
            }
        } else {
            // An empty buffer restarts numbering, so sequence numbers never run out.
            nextSequence = 0;
        }
    }
}
