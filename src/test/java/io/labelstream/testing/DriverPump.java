package io.labelstream.testing;

import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.test.TestRecord;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

import static org.awaitility.Awaitility.await;

/**
 * Lets a {@link TopologyTestDriver} see the work that the batching stage does off the stream thread: the stage
 * forwards a batch's outputs when the stream thread next looks (on a record or on its wall-clock tick), so a
 * test advances the driver's wall clock by one tick at a time, with a short real pause, until what it waits for
 * is there. Awaitility on the test's own thread (the driver is not thread-safe); bounded: fails after a minute,
 * however slow the machine.
 */
public final class DriverPump {

    private static final Duration GIVE_UP_AFTER = Duration.ofSeconds(60);

    private DriverPump() {
    }

    /** Advances by {@code tick} until {@code done} holds. */
    public static void until(TopologyTestDriver driver, Duration tick, BooleanSupplier done) {
        await("the topology's output").atMost(GIVE_UP_AFTER).pollInSameThread().pollDelay(Duration.ZERO)
                .pollInterval(Duration.ofMillis(2)).until(() -> {
                    if (done.getAsBoolean()) {
                        return true;
                    }
                    driver.advanceWallClockTime(tick);
                    return false;
                });
    }

    /** Reads {@code count} records from {@code topic}, advancing by {@code tick} until they are all out. */
    public static <K, V> List<TestRecord<K, V>> read(TopologyTestDriver driver, Duration tick,
                                                     TestOutputTopic<K, V> topic, int count) {
        List<TestRecord<K, V>> out = new ArrayList<>();
        until(driver, tick, () -> {
            out.addAll(topic.readRecordsToList());
            return out.size() >= count;
        });
        return out;
    }
}
