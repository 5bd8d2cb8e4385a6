package io.labelstream.stream;

import io.labelstream.model.ExplainSettings;
import io.labelstream.model.ImageMaps;
import io.labelstream.schema.ActivationMap;
import io.labelstream.schema.FailureReason;
import io.labelstream.schema.ImageFailure;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModerationFlag;
import io.labelstream.schema.SourceBox;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class RecordsTest {

    private static final RecordMetadata AT = new RecordMetadata() {
        public String topic() {
            return "images";
        }

        public int partition() {
            return 3;
        }

        public long offset() {
            return 41;
        }
    };

    private static BufferedRecord buffered(byte[] value) {
        RecordHeaders headers = new RecordHeaders();
        headers.add("trace-id", "abc".getBytes(StandardCharsets.UTF_8));
        return Records.buffered(new Record<>("k".getBytes(StandardCharsets.UTF_8), value, 1234L, headers), AT, 99L);
    }

    @Test
    void anEntryWithItsValueInTheInputKeepsEverythingElseAndIsMadeWholeAgain() {
        byte[] value = "an image event".getBytes(StandardCharsets.UTF_8);
        BufferedRecord full = buffered(value);
        BufferedRecord entry = Records.withValueInInput(full);

        assertThat(Records.valueInInput(entry)).isTrue();
        assertThat(entry.getValue().remaining()).isZero();
        assertThat(Records.headers(entry)).isEqualTo(full.getHeaders());
        assertThat(BatchBuffer.InputOffset.of(entry)).isEqualTo(new BatchBuffer.InputOffset("images", 3, 41));

        BufferedRecord whole = Records.withValue(entry, value);
        assertThat(whole).isEqualTo(full);
        assertThat(Records.valueInInput(whole)).isFalse();
    }

    @Test
    void aTombstoneIsKeptAsItIs() {
        BufferedRecord tombstone = buffered(null);
        assertThat(Records.withValueInInput(tombstone)).isSameAs(tombstone);
        assertThat(Records.valueInInput(tombstone)).isFalse();
        assertThat(Records.value(tombstone)).isNull();
    }

    @Test
    void aFailureOfAnEntryWhoseInputIsGoneHasNoValueAndTheOriginalHeaders() {
        BufferedRecord entry = Records.withValueInInput(buffered("x".getBytes(StandardCharsets.UTF_8)));
        ImageFailure f = Records.failure(null, FailureReason.FETCH_FAILED, "gone", entry, null);
        assertThat(f.getOriginalValue()).isNull();
        assertThat(f.getHeaders()).extracting(h -> h.getKey()).containsExactly("trace-id");
        assertThat(f.getSource().getOffset()).isEqualTo(41);
        assertThat(Optional.ofNullable(f.getOriginalKey())).isPresent();
    }

    @Test
    void aFlagOnAClassWhoseLabelCarriesAMapTakesThatMapRatherThanMakingItAgain() {
        ActivationMap map = new ActivationMap(1, 1, java.nio.ByteBuffer.wrap(new byte[] {(byte) 255}),
                new SourceBox(0f, 0f, 4f, 4f));
        List<Label> labels = List.of(new Label(3, "red", 0.9f, map), new Label(5, "green", 0.1f, null));
        // No feature map behind these maps: making one again would fail.
        ImageMaps maps = new ImageMaps(null, null, 0, 1, 1, null, new ExplainSettings(1, true));
        ModerationFlag flag = new ModerationFlag("reds", 3, "red", 0.9f, 0.5f, null);

        List<ModerationFlag> flags = Records.explained(List.of(flag), labels, maps);

        assertThat(flags.get(0).getActivation()).isSameAs(map);
    }
}
