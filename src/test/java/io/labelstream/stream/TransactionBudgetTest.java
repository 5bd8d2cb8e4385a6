package io.labelstream.stream;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TransactionBudgetTest {

    @Test
    void worstCaseCountsTheBatchAndBothHalvesAtEveryBisectionLevel() {
        assertThat(TransactionBudget.inferenceCallsInWorstCase(1)).isEqualTo(1);
        assertThat(TransactionBudget.inferenceCallsInWorstCase(2)).isEqualTo(3);
        assertThat(TransactionBudget.inferenceCallsInWorstCase(8)).isEqualTo(7);
        assertThat(TransactionBudget.inferenceCallsInWorstCase(9)).isEqualTo(9);
    }

    @Test
    void aSlowMachineIsWarnedAboutNamingTheSettingsNeverRefused() {
        assertThat(TransactionBudget.warning(8, 1000, 10_000)).isEmpty(); // 7 calls × 1 s fit in 10 s
        assertThat(TransactionBudget.warning(8, 1500, 10_000)).hasValueSatisfying(w -> assertThat(w)
                .contains("max.batch.size=8").contains("1500 ms").contains("10500 ms").contains("10000 ms")
                .contains("kafka.producer.transaction.timeout.ms").contains("MODEL_ERROR"));
    }

    @Test
    void theBudgetIsJudgedOnceFromTheMedianOfFullBatchesAfterAWarmUp() {
        var fast = new TransactionBudget(8, 10_000, 100, true);
        assertThat(fast.observeFullBatch(60_000)).isEmpty(); // the warm-up: never counted, however slow
        for (int i = 0; i < TransactionBudget.MEASURED_BATCHES; i++) {
            assertThat(fast.observeFullBatch(i == 0 ? 60_000 : 100)).isEmpty(); // one outlier does not move a median
        }
        var slow = new TransactionBudget(8, 10_000, 100, true);
        assertThat(slow.observeFullBatch(100)).isEmpty();
        for (int i = 0; i < TransactionBudget.MEASURED_BATCHES - 1; i++) {
            assertThat(slow.observeFullBatch(2000)).isEmpty();
        }
        assertThat(slow.observeFullBatch(2000)).hasValueSatisfying(w -> assertThat(w).contains("2000 ms"));
        assertThat(slow.observeFullBatch(2000)).as("judged once").isEmpty();
    }

    @Test
    void theWaitForRoomLeavesTheTransactionMostOfItsTime() {
        assertThat(new TransactionBudget(8, 10_000, 100, true).holdBackMs()).isEqualTo(2475);
        assertThat(new TransactionBudget(8, 2, 1, true).holdBackMs()).isEqualTo(1);
        // At least once: no transaction, so no commit after a wait, and a long commit interval changes nothing.
        var atLeastOnce = TransactionBudget.of(LabelstreamConfig.of(Map.of("processing.guarantee", "at_least_once")));
        assertThat(atLeastOnce.holdBackMs()).isEqualTo(2475);
        assertThat(atLeastOnce.exactlyOnce()).isFalse();
        assertThat(TransactionBudget.defaults(8).exactlyOnce()).isTrue();
    }

    @Test
    void theHoldBackIsSharedByAThreadsTasksWithinARoundAndEachThreadHasItsOwn() throws Exception {
        var budget = TransactionBudget.defaults(8);
        long all = java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(budget.holdBackMs());
        assertThat(budget.holdBackLeftNanos()).isEqualTo(all);
        budget.heldBack(all / 2); // one task waited
        budget.heldBack(all / 2); // another task of the same thread waited
        assertThat(budget.holdBackLeftNanos()).isZero();
        long[] otherThread = new long[1];
        Thread t = new Thread(() -> otherThread[0] = budget.holdBackLeftNanos());
        t.start();
        t.join();
        assertThat(otherThread[0]).isEqualTo(all);
        budget.newRound();
        assertThat(budget.holdBackLeftNanos()).isEqualTo(all);
    }

    @Test
    void startUpStopsOnlyOnSettingsThatCanNeverWorkAndNamesThem() {
        assertThatThrownBy(() -> TransactionBudget.of(LabelstreamConfig.of(Map.of("kafka.commit.interval.ms", "10000"))))
                .isInstanceOf(ConfigException.class).hasMessageContaining("kafka.commit.interval.ms=10000")
                .hasMessageContaining("10000 ms").hasMessageContaining("kafka.producer.transaction.timeout.ms");
        assertThatThrownBy(() -> TransactionBudget.of(LabelstreamConfig.of(Map.of(
                "kafka.producer.transaction.timeout.ms", "soon")))).isInstanceOf(ConfigException.class)
                .hasMessageContaining("kafka.producer.transaction.timeout.ms").hasMessageContaining("soon");
        // A tight but workable transaction timeout starts: how fast this machine is decides nothing here.
        assertThatCode(() -> TransactionBudget.of(LabelstreamConfig.of(Map.of("max.batch.size", "64",
                "kafka.producer.transaction.timeout.ms", "200")))).doesNotThrowAnyException();
        assertThatCode(() -> TransactionBudget.of(LabelstreamConfig.of(Map.of("processing.guarantee", "at_least_once",
                "kafka.commit.interval.ms", "60000")))).doesNotThrowAnyException();
        assertThat(LabelstreamConfig.of(Map.of("kafka.transaction.timeout.ms", "30000")).transactionTimeoutMs())
                .isEqualTo(30_000);
    }
}
