package io.labelstream.stream;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import org.apache.kafka.streams.StreamsConfig;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What an idle stream thread's polls are made of, from labelstream's settings. */
class StreamsPropertiesTest {

    private static final String FETCH_WAIT = StreamsConfig.mainConsumerPrefix("fetch.max.wait.ms");

    private static Properties properties(String... keyValues) {
        Map<String, String> settings = new HashMap<>(Map.of("model.path", "model.onnx"));
        for (int i = 0; i < keyValues.length; i += 2) {
            settings.put(keyValues[i], keyValues[i + 1]);
        }
        return Pipeline.streamsProperties(LabelstreamConfig.of(settings), "localhost:9092");
    }

    @Test
    void anIdleThreadPollsAndItsEmptyFetchWaitsForIdlePollMs() {
        Properties defaults = properties();
        assertThat(defaults.get(StreamsConfig.POLL_MS_CONFIG)).isEqualTo(3000L);
        assertThat(defaults.get(FETCH_WAIT)).isEqualTo(3000);

        Properties shorter = properties("idle.poll.ms", "500");
        assertThat(shorter.get(StreamsConfig.POLL_MS_CONFIG)).isEqualTo(500L);
        assertThat(shorter.get(FETCH_WAIT)).isEqualTo(500);
    }

    @Test
    void kafkasOwnSettingsStillWinAndAWaitBeyondTheBoundStopsStartUp() {
        Properties overridden = properties("idle.poll.ms", "500", "kafka.poll.ms", "120000");
        assertThat(overridden.get(StreamsConfig.POLL_MS_CONFIG)).isEqualTo("120000");
        assertThat(overridden.get(FETCH_WAIT)).isEqualTo(500);

        assertThatThrownBy(() -> properties("idle.poll.ms", "60000")).isInstanceOf(ConfigException.class)
                .hasMessageContaining("idle.poll.ms");
    }

    @Test
    void underTheStreamsGroupProtocolNothingCanWakeAPollSoItLastsOneBatchingTick() {
        Properties streamsProtocol = properties("kafka.group.protocol", "streams", "max.batch.delay.ms", "20");
        assertThat(streamsProtocol.get(StreamsConfig.POLL_MS_CONFIG)).isEqualTo(10L);
        assertThat(streamsProtocol.get(FETCH_WAIT)).isNull();
    }
}
