package io.labelstream.broker;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;

class EmbeddedKafkaTest {

    @Test
    void portsAskedForTogetherAreDistinct() {
        // One at a time, a port just closed can come back at once: a broker given it for both listeners failed.
        int[] ports = EmbeddedKafka.freePorts(64);
        assertThat(Arrays.stream(ports).distinct().count()).isEqualTo(64);
        assertThat(Arrays.stream(ports).boxed().toList()).allSatisfy(port -> assertThat(port).isBetween(1, 65535));
    }
}
