package io.labelstream.stream;

import io.labelstream.model.BatchOutcome;
import io.labelstream.model.ClassScore;
import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelSet;
import io.labelstream.model.Lease;
import io.labelstream.model.LeaseCount;
import io.labelstream.model.ModelId;
import io.labelstream.ops.PipelineMetrics;
import io.labelstream.schema.AvroSerdes;
import io.labelstream.schema.ImageEvents;
import io.labelstream.schema.SourceCoordinates;
import io.labelstream.schema.internal.BufferedRecord;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The batching stage's policy on its own: no ONNX Runtime, no Kafka, no threads of its own and no clock. The engine
 * is a {@link Labeler} whose batches this test completes by hand, the time is a number passed in, and the buffer
 * sits in a real in-memory store.
 */
class BatchStageTest {

    /** Models whose leases are counted, as a model set's are. */
    private static final class CountedModels implements Labeler.Models {
        private final ModelId id;
        private final LeaseCount leases = new LeaseCount(() -> { });

        CountedModels(String name) {
            this.id = new ModelId(name, "1", name + "-sha");
        }

        @Override
        public Lease tryLease() {
            return leases.tryLease();
        }

        int holders() {
            return leases.openLeases();
        }

        @Override
        public ModelId primary() {
            return id;
        }

        @Override
        public LabelSet primaryLabels() {
            return LabelSet.numbered(3);
        }

        @Override
        public Map<String, LabelSet> sideLabels() {
            return Map.of();
        }
    }

    /** A batch handed to the engine, which the test completes when it likes. */
    private record Submitted(Labeler.Models models, List<byte[]> images, CompletableFuture<BatchOutcome> result) {

        /** Every image labeled class 0, except those the model cannot read. */
        void complete() {
            List<ImageOutcome> outcomes = new ArrayList<>();
            for (byte[] image : images) {
                outcomes.add(new String(image, StandardCharsets.UTF_8).startsWith("poison")
                        ? new ImageOutcome.Rejected(io.labelstream.schema.FailureReason.UNDECODABLE_IMAGE, "poison")
                        : new ImageOutcome.Labeled(List.of(new ClassScore(0, "class-0000", 1f)), new float[] {1, 0, 0}));
            }
            result.complete(new BatchOutcome(outcomes, images.size(), 1.0, 2.0, models.primary(), List.of()));
        }
    }

    private static final class HandLabeler implements Labeler {
        Labeler.Models current = new CountedModels("first");
        boolean idle = true;
        final List<Submitted> submitted = new ArrayList<>();

        @Override
        public Models current() {
            return current;
        }

        @Override
        public CompletableFuture<BatchOutcome> submit(Models models, List<byte[]> images, int capacity) {
            CompletableFuture<BatchOutcome> result = new CompletableFuture<>();
            submitted.add(new Submitted(models, images, result));
            return result;
        }

        @Override
        public boolean hasIdleWorker() {
            return idle;
        }

        @Override
        public Duration typicalBatchTime() {
            return Duration.ofMillis(100);
        }
    }

    private final HandLabeler labeler = new HandLabeler();
    private final List<String> emitted = new ArrayList<>();
    private KeyValueStore<Long, BufferedRecord> store;
    private long offset;

    @BeforeEach
    void store() {
        store = Stores.keyValueStoreBuilder(Stores.inMemoryKeyValueStore(LabelingTopology.BUFFER_STORE),
                Serdes.Long(), AvroSerdes.bufferedRecord()).withLoggingDisabled().build();
        store.init(new MockProcessorContext<>().getStateStoreContext(), store);
    }

    private BatchStage stage(int maxBatchSize, int maxInFlight) {
        TaskModel model = new TaskModel(labeler, ModerationRules.none(), "recipe");
        return new BatchStage(labeler, new BatchStage.Policy(maxBatchSize, 20, maxInFlight), model,
                new Intake(AvroSerdes.imageEvent(), new ImagePreparation(null, false)),
                admit -> new BatchBuffer(store, admit, true, wanted -> Map.of()), null, PipelineMetrics.inMemory(),
                TransactionBudget.defaults(maxBatchSize), () -> { });
    }

    /** An event whose image is {@code id}'s bytes (the hand labeler reads no pixels), or bytes that are no event. */
    private BufferedRecord record(String id, long now) {
        byte[] value = id.startsWith("garbage") ? id.getBytes(StandardCharsets.UTF_8)
                : AvroSerdes.imageEvent().encode(ImageEvents.inline(id, id.getBytes(StandardCharsets.UTF_8), null)
                .build());
        return BufferedRecord.newBuilder().setKey(null).setValue(ByteBuffer.wrap(value)).setHeaders(List.of())
                .setSource(new SourceCoordinates("in", 0, offset++)).setTimestamp(now).setBufferedAt(now).build();
    }

    private void emit(BatchItem item) {
        emitted.add(item.id() == null ? "failed:" + item.outcome().getClass().getSimpleName()
                : item.id() + (item.outcome() instanceof BatchItem.Failed f ? ":" + f.reason() : ""));
    }

    private static List<String> idsOf(Submitted batch) {
        return batch.images().stream().map(b -> new String(b, StandardCharsets.UTF_8)).toList();
    }

    @Test
    void outputsLeaveInInputOrderWithFailuresAmongLabelsWhateverOrderBatchesFinishIn() {
        BatchStage stage = stage(2, 2);
        for (String id : List.of("a", "garbage-b", "c", "poison-d", "e")) {
            stage.add(record(id, 0));
        }
        stage.advance(0, false, this::emit);
        assertThat(labeler.submitted).extracting(BatchStageTest::idsOf)
                .containsExactly(List.of("a", "c"), List.of("poison-d", "e"));

        labeler.submitted.get(1).complete();
        assertThat(stage.advance(1, false, this::emit)).as("the head's batch is still running").isZero();
        labeler.submitted.get(0).complete();
        assertThat(stage.advance(2, false, this::emit)).isEqualTo(5);
        assertThat(emitted).containsExactly("a", "failed:Failed", "c", "poison-d:UNDECODABLE_IMAGE", "e");
        assertThat(stage.size()).isZero();
        assertThat(store.approximateNumEntries()).isZero();
    }

    @Test
    void aFullBatchGoesAtOnceAndAPartialOneAfterItsDelayAndOnlyIfAWorkerIsIdle() {
        BatchStage stage = stage(4, 2);
        for (int i = 0; i < 3; i++) {
            stage.add(record("p" + i, 1000));
        }
        stage.advance(1000, true, this::emit);
        assertThat(labeler.submitted).as("a partial batch waits its delay").isEmpty();
        assertThat(stage.msUntilPartialBatchMayStart(1000)).isEqualTo(20);

        labeler.idle = false;
        stage.advance(1020, true, this::emit);
        assertThat(labeler.submitted).as("behind a busy engine it keeps filling, a typical batch time more").isEmpty();
        assertThat(stage.msUntilPartialBatchMayStart(1020)).isEqualTo(100);

        stage.advance(1120, false, this::emit);
        assertThat(labeler.submitted).as("only the tick starts a partial batch").isEmpty();
        stage.advance(1120, true, this::emit);
        assertThat(labeler.submitted).extracting(BatchStageTest::idsOf).containsExactly(List.of("p0", "p1", "p2"));

        for (int i = 0; i < 4; i++) {
            stage.add(record("f" + i, 1121));
        }
        stage.advance(1121, false, this::emit);
        assertThat(labeler.submitted).as("a full batch goes at once, between ticks, engine busy or not")
                .extracting(BatchStageTest::idsOf).endsWith(List.of("f0", "f1", "f2", "f3"));
        assertThat(stage.msUntilPartialBatchMayStart(1121)).as("no slot left").isEqualTo(Long.MAX_VALUE);
    }

    @Test
    void aFullStageHasNoRoomUntilABatchLeavesAndItsNewsEndsAWait() throws Exception {
        BatchStage stage = stage(2, 1);
        for (int i = 0; i < 4; i++) {
            stage.add(record("r" + i, 0));
            stage.advance(0, false, this::emit);
        }
        assertThat(stage.isFull()).isTrue();
        assertThat(stage.hasRoom()).isFalse();
        assertThat(labeler.submitted).hasSize(1);

        stage.clearProgress();
        CompletableFuture.runAsync(() -> labeler.submitted.get(0).complete());
        assertThat(stage.awaitProgress(TimeUnit.MINUTES.toNanos(1))).as("the batch's news ends the wait").isTrue();
        stage.advance(1, false, this::emit);
        assertThat(emitted).containsExactly("r0", "r1");
        assertThat(stage.hasRoom()).isTrue();
        assertThat(labeler.submitted).as("the next full batch took the free slot").hasSize(2);
    }

    @Test
    void aReplacedModelLabelsUpToABatchBoundaryAndTheNewOneEverythingAfter() {
        BatchStage stage = stage(2, 2);
        CountedModels first = (CountedModels) labeler.current;
        stage.add(record("old-0", 0));
        stage.add(record("old-1", 0));
        stage.add(record("waits", 0));
        stage.advance(0, false, this::emit);
        assertThat(labeler.submitted).hasSize(1);

        CountedModels second = new CountedModels("second");
        labeler.current = second;
        stage.add(record("new-1", 1));
        stage.advance(1, true, this::emit);
        stage.advance(100, true, this::emit);
        assertThat(labeler.submitted).as("nothing after the old model's last batch joins a batch before the switch")
                .hasSize(1);

        labeler.submitted.get(0).complete();
        stage.advance(101, false, this::emit);
        assertThat(emitted).containsExactly("old-0", "old-1");
        assertThat(labeler.submitted).hasSize(2);
        assertThat(labeler.submitted.get(0).models()).isSameAs(first);
        assertThat(labeler.submitted.get(1).models()).isSameAs(second);
        assertThat(idsOf(labeler.submitted.get(1))).containsExactly("waits", "new-1");
        assertThat(first.holders()).as("the task let go of the replaced model").isZero();
        assertThat(stage.model().modelId().name()).isEqualTo("second");

        labeler.submitted.get(1).complete();
        stage.advance(102, false, this::emit);
        assertThat(emitted).containsExactly("old-0", "old-1", "waits", "new-1");
        stage.close();
        assertThat(second.holders()).isZero();
    }
}
