package io.labelstream.stream;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Keeps the work inside one Kafka transaction bounded by construction, whatever the machine's speed or load.
 * Under exactly-once the broker aborts a transaction after {@code transaction.timeout.ms} (10 s in Kafka Streams),
 * and a transaction stays open only while the stream thread is busy between two commits. The stream thread never
 * waits on a fetch or on the model: references are fetched before a record joins a batch, inference runs on the
 * engine's threads, and outputs are forwarded when ready. It waits only for room when a task's buffer is full,
 * for at most {@link #holdBackMs()} per round of the stream thread, all of its tasks together, and then asks for a
 * commit. Kafka Streams runs a thread's punctuators after every task's records of a round and commits right after
 * them, so a punctuator starts the next round's allowance ({@link #newRound()}). A batch's bisection is given the
 * transaction timeout as its own deadline (see the engine), so a slow model delays a partition, never a
 * transaction.
 *
 * <p>Nothing here is decided by a timing. Start-up stops only on settings that can never work; whether this
 * machine is fast enough for isolating bad images in full batches within the deadline is judged from real
 * batches, after a warm-up, and only ever warned about.
 */
public final class TransactionBudget {

    private static final Logger log = LoggerFactory.getLogger(TransactionBudget.class);
    /** Full batches observed before judging: the first is a warm-up, the median of the rest decides. */
    static final int WARM_UP_BATCHES = 1;
    static final int MEASURED_BATCHES = 5;

    private final int maxBatchSize;
    private final long transactionTimeoutMs;
    private final long commitIntervalMs;
    private final boolean exactlyOnce;
    /** Per stream thread: how long its tasks have held it back in this round. */
    private final ThreadLocal<long[]> heldThisRoundNanos = ThreadLocal.withInitial(() -> new long[1]);
    private final List<Double> fullBatchMs = new ArrayList<>();
    private int seen;
    private volatile boolean judged;

    /**
     * @param commitIntervalMs under exactly-once, how often Kafka Streams commits; under at-least-once there is no
     *                         transaction, and the hold-back is sized as for exactly-once's defaults
     */
    TransactionBudget(int maxBatchSize, long transactionTimeoutMs, long commitIntervalMs, boolean exactlyOnce) {
        this.maxBatchSize = maxBatchSize;
        this.transactionTimeoutMs = transactionTimeoutMs;
        this.commitIntervalMs = exactlyOnce ? commitIntervalMs : LabelstreamConfig.EOS_COMMIT_INTERVAL_MS;
        this.exactlyOnce = exactlyOnce;
    }

    /** Kafka Streams' exactly-once defaults: 10 s transactions, a commit every 100 ms. */
    static TransactionBudget defaults(int maxBatchSize) {
        return new TransactionBudget(maxBatchSize, LabelstreamConfig.STREAMS_TRANSACTION_TIMEOUT_MS,
                LabelstreamConfig.EOS_COMMIT_INTERVAL_MS, true);
    }

    /** The budget the configuration gives; stops start-up on settings that can never work. */
    static TransactionBudget of(LabelstreamConfig config) {
        long timeoutMs = config.transactionTimeoutMs();
        long commitMs = config.commitIntervalMs();
        if (config.exactlyOnce() && commitMs >= timeoutMs) {
            throw new ConfigException("Setting kafka.commit.interval.ms=" + commitMs + " is not below the "
                    + "transaction timeout of " + timeoutMs + " ms (kafka.producer.transaction.timeout.ms): under "
                    + "exactly-once every transaction would be aborted before its commit. Lower "
                    + "kafka.commit.interval.ms or raise kafka.producer.transaction.timeout.ms");
        }
        return new TransactionBudget(config.get(Settings.MAX_BATCH_SIZE), timeoutMs, commitMs, config.exactlyOnce());
    }

    /**
     * How long a full buffer may hold the stream thread waiting for room. A quarter of what the transaction leaves
     * after a commit interval: the wait and the commit asked for right after it fit with room to spare.
     */
    long holdBackMs() {
        return Math.max(1, (transactionTimeoutMs - commitIntervalMs) / 4);
    }

    /** What is left of this round's hold-back for the calling stream thread. */
    long holdBackLeftNanos() {
        return Math.max(0, TimeUnit.MILLISECONDS.toNanos(holdBackMs()) - heldThisRoundNanos.get()[0]);
    }

    /** The calling stream thread was held back this long. */
    void heldBack(long nanos) {
        heldThisRoundNanos.get()[0] += nanos;
    }

    /** A new round starts for the calling stream thread: called from its punctuators, just before a commit. */
    void newRound() {
        heldThisRoundNanos.get()[0] = 0;
    }

    /** Under exactly-once, how often Kafka Streams commits: forwarded output becomes visible then. */
    long commitIntervalMs() {
        return commitIntervalMs;
    }

    /**
     * Whether the work runs in transactions: then a task that held its thread back asks for a commit, and what it
     * forwards becomes visible only at the next one.
     */
    boolean exactlyOnce() {
        return exactlyOnce;
    }

    /**
     * ONNX Runtime calls a batch of n with one bad image needs in the worst case: itself, then both halves at each
     * bisection level. Several bad images can take more (up to 2n − 1 calls).
     */
    static long inferenceCallsInWorstCase(int batchSize) {
        int log2 = 32 - Integer.numberOfLeadingZeros(batchSize - 1); // ⌈log₂ n⌉ for n ≥ 1
        return 1L + 2L * log2;
    }

    /**
     * Records the inference time of a full batch that ran without a failure. Once enough are seen, judges (once)
     * whether bisecting such a batch could outlast the deadline a batch is given, and logs the verdict.
     * Thread-safe.
     *
     * @return the warning, on the call that judged a machine too slow; empty on every other call
     */
    Optional<String> observeFullBatch(double inferenceMs) {
        if (judged) {
            return Optional.empty();
        }
        double median;
        synchronized (fullBatchMs) {
            if (judged || seen++ < WARM_UP_BATCHES) {
                return Optional.empty();
            }
            fullBatchMs.add(inferenceMs);
            if (fullBatchMs.size() < MEASURED_BATCHES) {
                return Optional.empty();
            }
            median = fullBatchMs.stream().sorted().toList().get(MEASURED_BATCHES / 2);
            judged = true;
        }
        Optional<String> warning = warning(maxBatchSize, median, transactionTimeoutMs);
        warning.ifPresentOrElse(log::warn, () -> log.info("A full batch of {} takes {} ms to infer here (median of "
                + "{} after a warm-up); isolating a bad image in one fits the {} ms a batch is given", maxBatchSize,
                Math.round(median), MEASURED_BATCHES, transactionTimeoutMs));
        return warning;
    }

    /** The warning for a machine on which bisecting a full batch may outlast the batch's deadline, if it is one. */
    static Optional<String> warning(int batchSize, double fullBatchMs, long deadlineMs) {
        long worstMs = Math.round(inferenceCallsInWorstCase(batchSize) * fullBatchMs);
        if (worstMs <= deadlineMs) {
            return Optional.empty();
        }
        return Optional.of("Setting " + Settings.MAX_BATCH_SIZE.key() + "=" + batchSize + ": a full batch takes "
                + Math.round(fullBatchMs) + " ms to infer here (median of " + MEASURED_BATCHES + " after a warm-up), "
                + "so isolating a bad image in one by bisection could take up to " + worstMs + " ms, more than the "
                + deadlineMs + " ms a batch is given (kafka.producer.transaction.timeout.ms). Images not isolated by "
                + "then fail as MODEL_ERROR with the batch's error; labeling goes on. Lower "
                + Settings.MAX_BATCH_SIZE.key() + " or raise kafka.producer.transaction.timeout.ms if bad images are "
                + "common");
    }
}
