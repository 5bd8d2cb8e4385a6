package io.labelstream.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One inference worker (an ONNX Runtime session) per device of the configured {@link ExecutionProvider}. Every
 * stream thread's batches go to whichever worker has the fewest batches in flight, so four GPUs serve any number
 * of stream threads, and a slow device is given less work.
 */
public final class InferencePool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InferencePool.class);

    private final List<Worker> workers;
    private final ExecutionProvider provider;

    private InferencePool(List<Worker> workers, ExecutionProvider provider) {
        this.workers = List.copyOf(workers);
        this.provider = provider;
    }

    /**
     * Opens one session per device. A GPU provider that this ONNX Runtime build or machine lacks fails with a
     * message saying so, unless {@link SessionSettings#cpuFallback()} allows one CPU worker instead.
     */
    public static InferencePool open(Path modelFile, String modelSha256, SessionSettings settings)
            throws ModelException {
        ExecutionProvider provider = settings.provider();
        EnumSet<OrtProvider> available = OrtEnvironment.getAvailableProviders();
        if (provider.isGpu() && !available.contains(provider.kind().ortProvider)) {
            String why = "model.provider=" + provider + ": this ONNX Runtime build has no "
                    + provider.kind().ortProvider + " execution provider (available: " + available + "). Build with "
                    + "'mvn -Pgpu package' (onnxruntime_gpu) and run where CUDA 12 and cuDNN 9 are installed";
            if (!settings.cpuFallback()) {
                throw new ModelException(why + ", or set model.provider.fallback=cpu");
            }
            log.warn("{}; falling back to the CPU (model.provider.fallback=cpu)", why);
            provider = ExecutionProvider.CPU;
        }
        List<Worker> workers = new ArrayList<>();
        try {
            for (int device : provider.devices()) {
                workers.add(new Worker(device, openOne(modelFile, modelSha256, settings, provider, device)));
            }
        } catch (ModelException e) {
            workers.forEach(w -> w.classifier.close());
            if (provider.isGpu() && settings.cpuFallback()) {
                log.warn("{}; falling back to the CPU (model.provider.fallback=cpu)", e.getMessage());
                return open(modelFile, modelSha256, settings.withProvider(ExecutionProvider.CPU));
            }
            throw e;
        }
        return new InferencePool(workers, provider);
    }

    private static OnnxClassifier openOne(Path modelFile, String sha256, SessionSettings settings,
                                          ExecutionProvider provider, int device) throws ModelException {
        int threads = settings.intraOpThreads();
        if (threads == 0 && provider.kind() == ExecutionProvider.Kind.CPU) {
            // CPU workers share the cores; each taking all of them would only make them fight.
            threads = Math.max(1, Runtime.getRuntime().availableProcessors() / provider.devices().size());
        }
        Path cache = settings.optimizedCacheDir() == null ? null : settings.optimizedCacheDir().resolve(
                sha256.substring(0, 16) + "-" + provider.kind().name().toLowerCase(java.util.Locale.ROOT) + device
                        + "-" + settings.optimization() + ".onnx");
        return OnnxClassifier.load(modelFile, settings, provider.kind(), device, threads, cache);
    }

    public ExecutionProvider provider() {
        return provider;
    }

    public int workers() {
        return workers.size();
    }

    public ModelInput input() {
        return workers.get(0).classifier.input();
    }

    public int classes() {
        return workers.get(0).classifier.classes();
    }

    /** The model's {@code model_version}, or null when it has none. */
    public String modelVersion() {
        return workers.get(0).classifier.modelVersion();
    }

    public TensorBatch allocateBatch(int maxImages) {
        return workers.get(0).classifier.allocateBatch(maxImages);
    }

    /** Runs the batch on the least-busy worker (fewest batches in flight; ties go to the lowest device). */
    public float[] run(TensorBatch batch, int count) throws ModelException {
        return onOneWorker(session -> session.run(batch, count));
    }

    /** One worker's session, lent for a sequence of calls. */
    public interface Session {
        float[] run(TensorBatch batch, int count) throws ModelException;
    }

    /** Calls made on one worker while no other batch runs on it. */
    public interface Calls<T> {
        T run(Session session) throws ModelException;
    }

    /**
     * Lends the least-busy worker (fewest batches in flight; ties go to the lowest device) for {@code calls}, which
     * no other batch interrupts. A worker runs one batch at a time: its session already spreads a batch over all
     * its intra-op threads (or its device), and overlapping runs would only fight over them. A batch and the
     * re-runs that isolate a bad image in it hold the worker together, so their time is bounded on its own.
     */
    public <T> T onOneWorker(Calls<T> calls) throws ModelException {
        Worker worker = leastBusy();
        worker.running.lock();
        try {
            return calls.run((batch, count) -> {
                float[] out = worker.classifier.run(batch, count);
                worker.batches.incrementAndGet();
                worker.images.addAndGet(count);
                return out;
            });
        } finally {
            worker.running.unlock();
            worker.inFlight.decrementAndGet();
        }
    }

    private Worker leastBusy() {
        synchronized (workers) {
            Worker best = workers.get(0);
            for (Worker w : workers) {
                if (w.inFlight.get() < best.inFlight.get()) {
                    best = w;
                }
            }
            best.inFlight.incrementAndGet();
            return best;
        }
    }

    /** Per worker: device, batches and images run so far. */
    public record WorkerStats(int device, long batches, long images, int inFlight) {
    }

    public List<WorkerStats> stats() {
        return workers.stream().map(w -> new WorkerStats(w.device, w.batches.get(), w.images.get(), w.inFlight.get()))
                .toList();
    }

    @Override
    public void close() {
        workers.forEach(w -> w.classifier.close());
    }

    private static final class Worker {
        final int device;
        final OnnxClassifier classifier;
        final AtomicInteger inFlight = new AtomicInteger();
        final java.util.concurrent.locks.ReentrantLock running = new java.util.concurrent.locks.ReentrantLock(true);
        final AtomicLong batches = new AtomicLong();
        final AtomicLong images = new AtomicLong();

        Worker(int device, OnnxClassifier classifier) {
            this.device = device;
            this.classifier = classifier;
        }
    }
}
