package io.labelstream.stream;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.model.EngineFactory;
import io.labelstream.model.LabelingEngine;
import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BatchBudgetTest {

    @Test
    void worstCaseCountsTheBisectionOfAFullBatch() {
        assertThat(BatchBudget.inferenceCallsInWorstCase(1)).isEqualTo(2);
        assertThat(BatchBudget.inferenceCallsInWorstCase(8)).isEqualTo(8);
        assertThat(BatchBudget.inferenceCallsInWorstCase(9)).isEqualTo(10);
    }

    @Test
    void aBatchThatCannotFinishInsideTheTransactionStopsStartUpNamingTheSettings() {
        Map<String, String> s = new HashMap<>();
        s.put("model.path", TestModels.resnet18().toString());
        s.put("max.batch.size", "16");
        s.put("kafka.producer.transaction.timeout.ms", "200");
        LabelstreamConfig tight = LabelstreamConfig.of(s);
        try (LabelingEngine engine = EngineFactory.create(tight)) {
            assertThatThrownBy(() -> BatchBudget.check(tight, engine)).isInstanceOf(ConfigException.class)
                    .hasMessageContaining("max.batch.size=16").hasMessageContaining("kafka.producer.transaction.timeout.ms")
                    .hasMessageContaining("200 ms");
            LabelstreamConfig atLeastOnce = tight.with("processing.guarantee", "at_least_once");
            assertThatCode(() -> BatchBudget.check(atLeastOnce, engine)).doesNotThrowAnyException();
            LabelstreamConfig defaults = tight.with("kafka.producer.transaction.timeout.ms", "10000");
            assertThatCode(() -> BatchBudget.check(defaults, engine)).doesNotThrowAnyException();
        }
    }
}
