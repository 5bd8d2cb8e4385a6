package io.labelstream.stream;

import io.labelstream.schema.FailureReason;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.function.Predicate;

/**
 * A task's records from intake to output, in arrival order, kept in a changelogged key-value store so that a crash
 * loses nothing: the store is restored from its changelog before the task resumes, and every restored record goes
 * through the stage again.
 *
 * <p>Every record enters the buffer, failures found at intake included, and leaves it only from the head, once its
 * outcome is known and every record before it has left: a partition's outputs come out in input order. Under
 * exactly-once a record's output and its deletion from the store commit in one transaction. The store is only
 * written while the task runs; the items are held in memory as well, already decoded, and the store is read back
 * only when the task starts. Keys are a per-task sequence number; the store's big-endian long keys iterate in
 * arrival order.
 *
 * <p>By default the store keeps where each record is in its input topic, not its bytes: the input topic already
 * holds them, and under a backlog nearly every record is still buffered at the commit after it arrived, so a
 * changelog of values would write every image a second time. A restored entry is read back from its input.
 */
final class BatchBuffer {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(BatchBuffer.class);

    /** Where a buffered record is in its input topic. */
    record InputOffset(String topic, int partition, long offset) {

        static InputOffset of(BufferedRecord r) {
            return new InputOffset(r.getSource().getTopic(), r.getSource().getPartition(), r.getSource().getOffset());
        }

        @Override
        public String toString() {
            return topic + "-" + partition + "@" + offset;
        }
    }

    /** Reads buffered records' values back from their input topics. */
    interface InputValues {
        /** The values found, by where they are; a record no longer in its topic is absent from the answer. */
        Map<InputOffset, byte[]> read(List<InputOffset> wanted);
    }

    private final KeyValueStore<Long, BufferedRecord> store;
    private final boolean storeValues;
    private final ArrayDeque<BatchItem> items = new ArrayDeque<>();
    private long nextSequence;

    /**
     * @param admit       turns a restored record into its item, as intake does for a new one
     * @param storeValues true: the store (and so its changelog) keeps each record's bytes; false: only where the
     *                    record is in its input topic, and {@code input} reads restored records back from there
     */
    BatchBuffer(KeyValueStore<Long, BufferedRecord> store, Function<BufferedRecord, BatchItem> admit,
                boolean storeValues, InputValues input) {
        this.store = store;
        this.storeValues = storeValues;
        List<KeyValue<Long, BufferedRecord>> restored = new ArrayList<>();
        try (KeyValueIterator<Long, BufferedRecord> all = store.all()) {
            all.forEachRemaining(restored::add);
        }
        // Entries written with either setting are read: a changelog may hold both after the setting changed.
        List<InputOffset> wanted = restored.stream().map(e -> e.value).filter(Records::valueInInput)
                .map(InputOffset::of).toList();
        Map<InputOffset, byte[]> values = wanted.isEmpty() ? Map.of() : readBack(input, wanted);
        for (KeyValue<Long, BufferedRecord> entry : restored) {
            BatchItem item = restore(entry.value, values, admit);
            item.sequence(entry.key);
            items.add(item);
            nextSequence = entry.key + 1;
        }
    }

    private static Map<InputOffset, byte[]> readBack(InputValues input, List<InputOffset> wanted) {
        long t0 = System.nanoTime();
        Map<InputOffset, byte[]> values = input.read(wanted);
        log.info("Read {} of {} restored buffer records back from their input topics in {} ms", values.size(),
                wanted.size(), (System.nanoTime() - t0) / 1_000_000);
        return values;
    }

    private static BatchItem restore(BufferedRecord entry, Map<InputOffset, byte[]> values,
                                     Function<BufferedRecord, BatchItem> admit) {
        if (!Records.valueInInput(entry)) {
            return admit.apply(entry);
        }
        byte[] value = values.get(InputOffset.of(entry));
        if (value == null) {
            return BatchItem.failed(entry, FailureReason.FETCH_FAILED, "the input record at "
                    + InputOffset.of(entry) + " was buffered, but is no longer in its topic to be read back after a "
                    + "restart (deleted by retention or DeleteRecords first); buffer.changelog=records keeps the "
                    + "bytes in the changelog instead");
        }
        return admit.apply(Records.withValue(entry, value));
    }

    void add(BatchItem item) {
        item.sequence(nextSequence++);
        store.put(item.sequence(), storeValues ? item.record() : Records.withValueInInput(item.record()));
        items.add(item);
    }

    int size() {
        return items.size();
    }

    /**
     * Ready items ahead of {@code before} (a sequence number; {@link Long#MAX_VALUE} for all): the ones that may
     * join a batch now ({@link TaskModel#follow}).
     */
    int countReady(long before) {
        int n = 0;
        for (BatchItem item : items) {
            n += takeable(item, before) ? 1 : 0;
        }
        return n;
    }

    private static boolean takeable(BatchItem item, long before) {
        return item.stage() == BatchItem.Stage.READY && item.sequence() < before;
    }

    /**
     * Milliseconds until the ready item ahead of {@code before} that has waited longest has waited {@code delayMs}:
     * 0 or less when it has, {@code Long.MAX_VALUE} when no such item is ready.
     */
    long msUntilReadyItemDue(long now, long delayMs, long before) {
        long soonest = Long.MAX_VALUE;
        for (BatchItem item : items) {
            if (takeable(item, before)) {
                soonest = Math.min(soonest, item.readyAt() + delayMs - now);
            }
        }
        return soonest;
    }

    /**
     * Up to {@code max} ready items ahead of {@code before}, oldest first; they stay ready until the caller puts
     * them in a batch.
     */
    List<BatchItem> nextReady(int max, long before) {
        List<BatchItem> batch = new ArrayList<>(max);
        for (BatchItem item : items) {
            if (batch.size() == max) {
                break;
            }
            if (takeable(item, before)) {
                batch.add(item);
            }
        }
        return batch;
    }

    /** The sequence number of the last item for which {@code test} holds, or -1 when it holds for none. */
    long lastSequenceWhere(Predicate<BatchItem> test) {
        for (Iterator<BatchItem> it = items.descendingIterator(); it.hasNext(); ) {
            BatchItem item = it.next();
            if (test.test(item)) {
                return item.sequence();
            }
        }
        return -1;
    }

    /**
     * True when the oldest item waits for something outside the stream thread: its image to be fetched or hashed,
     * or its writer schema to come from the schema registry.
     */
    boolean headIsWaiting() {
        return !items.isEmpty() && items.peek().pendingFuture() != null;
    }

    /** Items whose writer schema has come from the registry, for intake to decode now. */
    List<BatchItem> arrivedWriterSchemas() {
        List<BatchItem> arrived = new ArrayList<>();
        for (BatchItem item : items) {
            if (item.writerSchemaArrived()) {
                arrived.add(item);
            }
        }
        return arrived;
    }

    /** Items whose asynchronous preparation has finished, for the stream thread to take their results. */
    List<BatchItem> finishedPreparations() {
        List<BatchItem> finished = new ArrayList<>();
        for (BatchItem item : items) {
            if (item.preparationFinished()) {
                finished.add(item);
            }
        }
        return finished;
    }

    /**
     * Emits and deletes items from the head for as long as {@code canLeave} holds for the head; under exactly-once
     * the deletes commit atomically with what {@code emit} forwards.
     */
    int evictWhile(Predicate<BatchItem> canLeave, Consumer<BatchItem> emit) {
        int evicted = 0;
        while (!items.isEmpty() && canLeave.test(items.peek())) {
            BatchItem head = items.poll();
            emit.accept(head);
            store.delete(head.sequence());
            evicted++;
        }
        if (items.isEmpty()) {
            // An empty buffer restarts numbering, so sequence numbers never run out.
            nextSequence = 0;
        }
        return evicted;
    }

    /** Every item, oldest first; for closing a task, when whatever is still running is abandoned. */
    Iterable<BatchItem> items() {
        return items;
    }
}
