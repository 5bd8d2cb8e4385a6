package io.labelstream.stream;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;
import io.labelstream.model.LabelingEngine;
import io.labelstream.model.ModelException;
import io.labelstream.model.TensorBatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Map;

/**
 * Checks at start-up that a batch can always finish inside its Kafka transaction. Under exactly-once, a flush's
 * output and the deletion of its records from the buffer commit in one transaction, which the broker aborts
 * after {@code transaction.timeout.ms} (10 s in Kafka Streams). Waiting in the buffer does not hold a
 * transaction open (the buffer is committed every {@code commit.interval.ms}), so the worst case is one commit
 * interval plus a batch whose references all time out, which waits for the worker to finish one other batch and
 * then must be bisected because one image breaks inference: 1 + 2 + 2·⌈log₂ n⌉ full-batch inference calls (a
 * batch and its bisection hold the worker together, so nothing else runs in between). A full-batch call is timed
 * here, best of three after a warm-up run (start-up is often contended), and start-up stops if the worst case does
 * not fit.
 */
final class BatchBudget {

    private static final Logger log = LoggerFactory.getLogger(BatchBudget.class);
    static final long STREAMS_EOS_TRANSACTION_TIMEOUT_MS = 10_000;
    static final long EOS_COMMIT_INTERVAL_MS = 100;

    private BatchBudget() {
    }

    static long inferenceCallsInWorstCase(int batchSize) {
        int log2 = 32 - Integer.numberOfLeadingZeros(batchSize - 1); // ⌈log₂ n⌉ for n ≥ 1
        return 2L + 2L * log2;
    }

    static void check(LabelstreamConfig config, LabelingEngine engine) {
        int batchSize = config.get(Settings.MAX_BATCH_SIZE);
        long fullBatchMs = timeFullBatch(engine, batchSize);
        boolean references = !config.get(Settings.FETCH_FILE_ROOTS).isBlank()
                || !config.get(Settings.FETCH_HTTP_HOSTS).isBlank();
        Map<String, Object> kafka = config.kafkaOverrides();
        long commitMs = Long.parseLong(kafka.getOrDefault("commit.interval.ms", EOS_COMMIT_INTERVAL_MS).toString());
        long worstMs = commitMs + (1 + inferenceCallsInWorstCase(batchSize)) * fullBatchMs
                + (references ? config.get(Settings.FETCH_TIMEOUT_MS) : 0); // a batch's fetches run at once
        if (!config.get(Settings.PROCESSING_GUARANTEE).startsWith("exactly_once")) {
            log.info("Worst-case batch time {} ms (full batch of {} measured at {} ms)", worstMs, batchSize, fullBatchMs);
            return;
        }
        Object configured = kafka.getOrDefault("producer.transaction.timeout.ms", kafka.get("transaction.timeout.ms"));
        long timeoutMs = configured == null ? STREAMS_EOS_TRANSACTION_TIMEOUT_MS : Long.parseLong(configured.toString());
        log.info("Worst-case batch time {} ms (full batch of {} measured at {} ms); transaction timeout {} ms", worstMs,
                batchSize, fullBatchMs, timeoutMs);
        if (worstMs >= timeoutMs) {
            throw new ConfigException("Setting " + Settings.MAX_BATCH_SIZE.key() + "=" + batchSize
                    + (references ? " (with " + Settings.FETCH_TIMEOUT_MS.key() + "=" + config.get(Settings.FETCH_TIMEOUT_MS)
                    + " for references)" : "")
                    + " does not fit in a Kafka transaction: one full batch takes " + fullBatchMs + " ms to infer here,"
                    + " so with the commit interval and the batch ahead of it, a batch that must be split to isolate"
                    + " a bad image can take up to "
                    + worstMs + " ms, but "
                    + "under exactly-once its transaction is aborted after " + timeoutMs + " ms. Lower "
                    + Settings.MAX_BATCH_SIZE.key() + (references ? " or " + Settings.FETCH_TIMEOUT_MS.key() : "")
                    + ", or raise kafka.producer.transaction.timeout.ms (up to the "
                    + "broker's transaction.max.timeout.ms)");
        }
    }

    private static long timeFullBatch(LabelingEngine engine, int batchSize) {
        TensorBatch batch = engine.model().classifier().allocateBatch(batchSize);
        try {
            engine.model().classifier().run(batch, batchSize); // first run: ORT allocates and plans
            long best = Long.MAX_VALUE;
            for (int i = 0; i < 3; i++) {
                long t0 = System.nanoTime();
                engine.model().classifier().run(batch, batchSize);
                best = Math.min(best, System.nanoTime() - t0);
            }
            return Math.max(1, best / 1_000_000);
        } catch (ModelException e) {
            throw new ConfigException("Setting " + Settings.MODEL_PATH.key() + ": the model cannot run a batch of "
                    + batchSize + " (" + Settings.MAX_BATCH_SIZE.key() + "): " + e.getMessage());
        }
    }
}
