package io.labelstream.model;

import io.labelstream.testing.TestModels;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class InferencePoolTest {

    @TempDir
    Path dir;

    private static SessionSettings cpu(String provider) {
        return new SessionSettings(1, 1, "all", null, ExecutionProvider.parse(provider), false);
    }

    @Test
    void providerSpecsParse() {
        assertThat(ExecutionProvider.parse("cpu")).isEqualTo(ExecutionProvider.CPU);
        assertThat(ExecutionProvider.parse("cuda:0,1,2,3").devices()).containsExactly(0, 1, 2, 3);
        assertThat(ExecutionProvider.parse("TensorRT:1").kind()).isEqualTo(ExecutionProvider.Kind.TENSORRT);
        assertThatThrownBy(() -> ExecutionProvider.parse("rocm")).hasMessageContaining("cpu, cuda or tensorrt");
        assertThatThrownBy(() -> ExecutionProvider.parse("cuda:0,0")).hasMessageContaining("distinct");
    }

    @Test
    void plainCpuDividesTheCoresIntoWorkersOfTheIntraOpThreadsEach() {
        assertThat(ExecutionProvider.parse("cpu", 4, 1).devices()).containsExactly(0, 1, 2, 3);
        assertThat(ExecutionProvider.parse("cpu", 4, 2).devices()).containsExactly(0, 1);
        assertThat(ExecutionProvider.parse("cpu", 3, 2).devices()).containsExactly(0);
        assertThat(ExecutionProvider.parse("cpu", 1, 4).devices()).containsExactly(0);
        // 0 threads: one worker with every core, as before workers were the default.
        assertThat(ExecutionProvider.parse("cpu", 8, 0)).isEqualTo(ExecutionProvider.CPU);
        // Ids given are taken as they are, and GPU providers are never divided.
        assertThat(ExecutionProvider.parse("cpu:0,1,2", 2, 1).devices()).containsExactly(0, 1, 2);
        assertThat(ExecutionProvider.parse("cuda", 8, 1).devices()).containsExactly(0);
    }

    @Test
    void aBatchThatFindsSeveralWorkersIdleIsSplitAcrossThemEachImageKeepingItsSlot() throws Exception {
        Path model = TestModels.resnet18();
        int count = 7;
        float[][] images = new float[count][];
        float[][] references = new float[count][];
        try (OnnxClassifier single = OnnxClassifier.load(model, new SessionSettings(1))) {
            TensorBatch b = single.allocateBatch(1);
            for (int i = 0; i < count; i++) {
                images[i] = randomImage(3 * 224 * 224, 100 + i);
                b.write(0, images[i]);
                references[i] = single.run(b, 1);
            }
        }
        try (InferencePool pool = InferencePool.open(model, LoadedModel.sha256(model), cpu("cpu:0,1,2"))) {
            TensorBatch batch = pool.allocateBatch(count);
            for (int i = 0; i < count; i++) {
                batch.write(i, images[i]);
            }
            BisectingInference.Result result = new BisectingInference(pool).infer(batch, count,
                    java.time.Duration.ofMinutes(1));
            assertThat(result.errors()).containsOnlyNulls();
            for (int slot = 0; slot < count; slot++) {
                for (int c = 0; c < 1000; c++) {
                    assertThat(result.raw()[slot * 1000 + c]).as("slot %d class %d", slot, c)
                            .isCloseTo(references[slot][c], within(1e-3f));
                }
            }
            // Nothing else ran, so all three were idle: parts of 2, 2 and 3 images, one on each.
            assertThat(pool.stats()).extracting(InferencePool.WorkerStats::images).containsExactly(2L, 2L, 3L);
            assertThat(pool.stats()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
        }
    }

    @Test
    void batchesFromManyThreadsSpreadOverAllWorkersAndGiveTheSameAnswers() throws Exception {
        Path model = TestModels.resnet18();
        float[] image = randomImage(3 * 224 * 224, 5);
        float[] reference;
        try (OnnxClassifier single = OnnxClassifier.load(model, new SessionSettings(1))) {
            TensorBatch b = single.allocateBatch(1);
            b.write(0, image);
            reference = single.run(b, 1);
        }
        try (InferencePool pool = InferencePool.open(model, LoadedModel.sha256(model), cpu("cpu:0,1,2"))) {
            assertThat(pool.stats()).hasSize(3);
            ExecutorService callers = Executors.newFixedThreadPool(6);
            try {
                List<Future<float[]>> results = new ArrayList<>();
                for (int i = 0; i < 24; i++) {
                    results.add(callers.submit(() -> {
                        TensorBatch b = pool.allocateBatch(2);
                        b.write(0, image);
                        b.write(1, image);
                        return pool.run(b, 2);
                    }));
                }
                for (Future<float[]> f : results) {
                    float[] out = f.get();
                    for (int i = 0; i < 1000; i++) {
                        assertThat(out[i]).isCloseTo(reference[i], within(1e-3f));
                        assertThat(out[1000 + i]).isCloseTo(reference[i], within(1e-3f));
                    }
                }
            } finally {
                callers.shutdownNow();
            }
            assertThat(pool.stats()).allSatisfy(s -> {
                assertThat(s.batches()).as("worker %d was used", s.device()).isPositive();
                assertThat(s.inFlight()).isZero();
            });
            assertThat(pool.stats().stream().mapToLong(InferencePool.WorkerStats::images).sum()).isEqualTo(48);
        }
    }

    @Test
    void aPartThatFailsUnexpectedlyStillWaitsForTheOtherPartsAndReleasesEveryWorker() throws Exception {
        Path model = TestModels.resnet18();
        try (InferencePool pool = InferencePool.open(model, LoadedModel.sha256(model), cpu("cpu:0,1,2"))) {
            TensorBatch batch = pool.allocateBatch(6);
            float[] image = randomImage(3 * 224 * 224, 3);
            for (int i = 0; i < 6; i++) {
                batch.write(i, image);
            }
            java.util.concurrent.atomic.AtomicInteger finished = new java.util.concurrent.atomic.AtomicInteger();
            assertThatThrownBy(() -> pool.onIdleWorkers(6, 1, (session, from, n) -> {
                if (from == 0) {
                    throw new IllegalStateException("part 0 broke");
                }
                session.run(batch, from, n);
                finished.incrementAndGet();
            })).isInstanceOf(IllegalStateException.class).hasMessage("part 0 broke");
            // The batch returned only after its other parts, which still hold its tensor, had finished.
            assertThat(finished).hasValue(2);
            assertThat(pool.stats()).allSatisfy(s -> assertThat(s.inFlight()).isZero());
            assertThat(pool.freeWorkers()).isEqualTo(3);
            runOne(pool, image);
        }
    }

    @Test
    @Timeout(value = 5, unit = TimeUnit.MINUTES) // a pool that waited for the held worker would never return
    void aBatchGoesToTheWorkerThatIsNotBusy() throws Exception {
        Path model = TestModels.resnet18();
        try (InferencePool pool = InferencePool.open(model, LoadedModel.sha256(model), cpu("cpu:0,1"))) {
            TensorBatch small = pool.allocateBatch(1);
            small.write(0, randomImage(3 * 224 * 224, 1));
            // One worker is held, by a part that waits for the test instead of for a long batch: which worker a
            // second batch finds busy then depends on no race between the two.
            CountDownLatch holding = new CountDownLatch(1);
            Semaphore release = new Semaphore(0);
            ExecutorService holder = Executors.newSingleThreadExecutor();
            try {
                Future<?> held = holder.submit(() -> {
                    pool.onIdleWorkers(1, 1, (session, from, count) -> {
                        holding.countDown();
                        release.acquireUninterruptibly();
                    });
                    return null;
                });
                assertThat(holding.await(1, TimeUnit.MINUTES)).as("a worker was claimed").isTrue();
                int busy = pool.stats().get(0).inFlight() == 1 ? 0 : 1;
                assertThat(pool.stats().get(busy).inFlight()).isEqualTo(1);

                pool.run(small, 1);

                assertThat(pool.stats().get(1 - busy).images()).as("the free worker ran it").isEqualTo(1);
                assertThat(pool.stats().get(busy).images()).as("the held worker ran nothing").isZero();
                assertThat(pool.stats().get(busy).inFlight()).as("still held meanwhile").isEqualTo(1);
                release.release();
                held.get(1, TimeUnit.MINUTES);
                assertThat(pool.stats()).allSatisfy(w -> assertThat(w.inFlight()).isZero());
            } finally {
                release.release();
                holder.shutdownNow();
            }
        }
    }

    @Test
    void anUnavailableGpuProviderFailsClearlyUnlessCpuFallbackIsAllowed() throws Exception {
        Path model = TestModels.resnet18();
        String sha = LoadedModel.sha256(model);
        assertThatThrownBy(() -> InferencePool.open(model, sha, cpu("cuda:0")))
                .isInstanceOf(ModelException.class)
                .hasMessageContaining("model.provider=cuda:0")
                .hasMessageContaining("no CUDA execution provider")
                .hasMessageContaining("-Pgpu")
                .hasMessageContaining("model.provider.fallback=cpu");
        assertThatThrownBy(() -> InferencePool.open(model, sha, cpu("tensorrt:0,1")))
                .hasMessageContaining("TENSOR_RT");
        SessionSettings fallback = new SessionSettings(1, 1, "all", null, ExecutionProvider.parse("cuda:0,1"), true);
        try (InferencePool pool = InferencePool.open(model, sha, fallback)) {
            // As plain cpu would be: one single-threaded worker per core.
            int cores = Runtime.getRuntime().availableProcessors();
            assertThat(pool.provider()).isEqualTo(ExecutionProvider.cpuWorkers(cores, 1));
            assertThat(pool.stats()).hasSize(cores);
        }
    }

    @Test
    void theOptimizedModelCacheIsWrittenOnceAndReusedWithTheSameResults() throws Exception {
        Path model = TestModels.resnet18();
        String sha = LoadedModel.sha256(model);
        Path cacheDir = dir.resolve("cache");
        SessionSettings cached = new SessionSettings(1, 1, "extended", cacheDir, ExecutionProvider.CPU, false);
        float[] image = randomImage(3 * 224 * 224, 9);
        float[] first;
        try (InferencePool pool = InferencePool.open(model, sha, cached)) {
            first = runOne(pool, image);
        }
        List<Path> files;
        try (var list = Files.list(cacheDir)) {
            files = list.toList();
        }
        assertThat(files).hasSize(1);
        long written = Files.getLastModifiedTime(files.get(0)).toMillis();
        try (InferencePool pool = InferencePool.open(model, sha, cached)) {
            float[] second = runOne(pool, image);
            for (int i = 0; i < first.length; i++) {
                assertThat(second[i]).isCloseTo(first[i], within(1e-3f));
            }
        }
        assertThat(Files.getLastModifiedTime(files.get(0)).toMillis()).isEqualTo(written);
    }

    private static float[] runOne(InferencePool pool, float[] image) throws ModelException {
        TensorBatch b = pool.allocateBatch(1);
        b.write(0, image);
        return pool.run(b, 1);
    }

    private static float[] randomImage(int n, long seed) {
        Random r = new Random(seed);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) r.nextGaussian();
        }
        return v;
    }
}
