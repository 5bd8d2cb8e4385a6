package io.labelstream.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One inference worker (an ONNX Runtime session) per device of the configured {@link ExecutionProvider}. Every
 * stream thread's batches wait in one queue, in arrival order, for the first worker free, so four GPUs serve any
 * number of stream threads and a slow device is given less work; a batch that finds several workers idle is split
 * across them ({@link #onIdleWorkers}).
 */
public final class InferencePool implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(InferencePool.class);

    private final List<Worker> workers;
    private final ExecutionProvider provider;

    /** Run the parts of a split batch beyond the first, which its calling thread runs: one per further worker. */
    private final ExecutorService partThreads;
    /** Turns of the callers claiming workers, guarded by {@link #workers}: the next to hand out, the one served. */
    private long nextTicket;
    private long serving;

    private InferencePool(List<Worker> workers, ExecutionProvider provider) {
        this.workers = List.copyOf(workers);
        this.provider = provider;
        AtomicInteger counter = new AtomicInteger();
        this.partThreads = Executors.newFixedThreadPool(Math.max(1, workers.size() - 1), r -> {
            Thread t = new Thread(r, "labelstream-part-" + counter.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Opens one session per device. A GPU provider that this ONNX Runtime build or machine lacks fails with a
     * message saying so, unless {@link SessionSettings#cpuFallback()} allows CPU workers instead.
     */
    public static InferencePool open(Path modelFile, String modelSha256, SessionSettings settings)
            throws ModelException {
        return open(modelFile, modelSha256, settings, null);
    }

    /**
     * As {@link #open(Path, String, SessionSettings)}, each session running {@code rewritten} instead of the file's
     * model when it is not null: the model with its feature map as a second output ({@link ClassActivationMaps}).
     */
    public static InferencePool open(Path modelFile, String modelSha256, SessionSettings settings, byte[] rewritten)
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
            provider = cpuFallback(settings);
        }
        List<Worker> workers = new ArrayList<>();
        try {
            for (int device : provider.devices()) {
                workers.add(new Worker(device, openOne(modelFile, modelSha256, settings, provider, device,
                        rewritten)));
            }
        } catch (ModelException e) {
            workers.forEach(w -> w.classifier.close());
            if (provider.isGpu() && settings.cpuFallback()) {
                log.warn("{}; falling back to the CPU (model.provider.fallback=cpu)", e.getMessage());
                return open(modelFile, modelSha256, settings.withProvider(cpuFallback(settings)), rewritten);
            }
            throw e;
        }
        return new InferencePool(workers, provider);
    }

    /** The CPU workers a GPU provider falls back to: as plain {@code cpu} would have them. */
    private static ExecutionProvider cpuFallback(SessionSettings settings) {
        return ExecutionProvider.cpuWorkers(Runtime.getRuntime().availableProcessors(), settings.intraOpThreads());
    }

    private static OnnxClassifier openOne(Path modelFile, String sha256, SessionSettings settings,
                                          ExecutionProvider provider, int device, byte[] rewritten)
            throws ModelException {
        int threads = settings.intraOpThreads();
        if (threads == 0 && provider.kind() == ExecutionProvider.Kind.CPU) {
            // CPU workers share the cores; each taking all of them would only make them fight.
            threads = Math.max(1, Runtime.getRuntime().availableProcessors() / provider.devices().size());
        }
        Path cache = settings.optimizedCacheDir() == null ? null : settings.optimizedCacheDir().resolve(
                sha256.substring(0, 16) + "-" + provider.kind().name().toLowerCase(java.util.Locale.ROOT) + device
                        + "-" + settings.optimization() + (rewritten == null ? "" : "-maps") + ".onnx");
        return OnnxClassifier.load(modelFile, settings, provider.kind(), device, threads, cache, rewritten);
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

    /** The slots a part of a split batch comes in multiples of: a fixed-batch model's batch, else 1. */
    public int splitUnit() {
        ModelInput input = input();
        return input.dynamicBatch() ? 1 : input.fixedBatch();
    }

    public int classes() {
        return workers.get(0).classifier.classes();
    }

    /** The feature map's channels, rows and columns; null when the sessions do not put it out. */
    public int[] mapShape() {
        return workers.get(0).classifier.mapShape();
    }

    /** The model's {@code model_version}, or null when it has none. */
    public String modelVersion() {
        return workers.get(0).classifier.modelVersion();
    }

    public TensorBatch allocateBatch(int maxImages) {
        return workers.get(0).classifier.allocateBatch(maxImages);
    }

    /**
     * Runs the batch whole on the first worker free (the lowest device when several are). A worker runs one batch at
     * a time: its session already spreads a batch over all its intra-op threads (or its device), and overlapping
     * runs would only fight over them.
     */
    public float[] run(TensorBatch batch, int count) throws ModelException {
        Worker worker = claim(1).get(0);
        try {
            return worker.session().run(batch, 0, count);
        } finally {
            release(worker);
        }
    }

    /**
     * Runs a batch of {@code batchSize} blank images on every worker at once, so that each session has planned and
     * allocated for it before the first real batch; a worker that cannot run it fails here, not on live traffic.
     */
    public void warmUp(int batchSize) throws ModelException {
        TensorBatch blank = allocateBatch(batchSize);
        onEach(claimAll(), (index, worker) -> worker.classifier.run(blank, batchSize));
    }

    /** Every worker, once each is free. */
    private List<Worker> claimAll() {
        List<Worker> all = new ArrayList<>(workers.size());
        while (all.size() < workers.size()) {
            all.addAll(claim(workers.size() - all.size()));
        }
        all.sort(java.util.Comparator.comparingInt(w -> w.device));
        return all;
    }

    /** One worker's session, lent for a sequence of calls. */
    public interface Session {
        /** Slots {@code from … from + count − 1} of {@code batch}: their outputs, image-major. */
        default float[] run(TensorBatch batch, int from, int count) throws ModelException {
            return run(batch, from, count, null);
        }

        /** As {@link #run(TensorBatch, int, int)}, writing their feature maps into {@code maps} at their slots too. */
        float[] run(TensorBatch batch, int from, int count, float[] maps) throws ModelException;
    }

    /**
     * Calls for one part of a batch, slots {@code from … from + count − 1}, on one worker that no other batch
     * interrupts meanwhile: a part and the re-runs that isolate a bad image in it hold the worker together, so their
     * time is bounded on its own.
     */
    public interface PartCalls {
        void run(Session session, int from, int count) throws ModelException;
    }

    /**
     * Runs a batch's {@code count} slots, split into contiguous parts over every worker idle when its turn comes
     * (at least one: it waits for the first to come free), each part on its own worker and all at once, the first
     * on the calling thread; with one worker free, the batch runs whole on it. So a batch that finds the engine idle
     * gets every worker, as one session with all the cores' threads would give it, while under a backlog each
     * worker runs whole batches of its own. Single-threaded workers are the cheapest per image: ONNX Runtime's
     * fork-join barrier, which ends every parallel operator, waits by spinning, so a thread that other work on the
     * machine pre-empted (a decode, the JIT, the broker) costs its partner CPU, not only time.
     *
     * @param unit parts are multiples of this many slots (a fixed-batch model's batch; 1 for a dynamic batch)
     * @throws ModelException the first part's failure, when {@code calls} let one through
     */
    public void onIdleWorkers(int count, int unit, PartCalls calls) throws ModelException {
        int units = (count + unit - 1) / unit;
        List<Worker> claimed = claim(Math.max(1, units));
        int parts = claimed.size();
        onEach(claimed, (part, worker) -> {
            // Whole units, sizes differing by at most one unit, the larger last.
            int from = Math.min(count, unit * (units * part / parts));
            int to = Math.min(count, unit * (units * (part + 1) / parts));
            calls.run(worker.session(), from, to - from);
        });
    }

    /** Work for one of several claimed workers, the {@code index}-th. */
    private interface OnWorker {
        void run(int index, Worker worker) throws ModelException;
    }

    /**
     * Runs {@code task} on each of {@code claimed} at once, the first on the calling thread and the others on
     * {@link #partThreads} (on the calling thread too when none can be had), releasing each worker when its task
     * ends. Every task is waited for, whatever happens to another: a batch must not return, and let its tensor and
     * model go, while part of it still runs.
     *
     * @throws ModelException the first task's failure (a RuntimeException or Error is rethrown as it is)
     */
    private void onEach(List<Worker> claimed, OnWorker task) throws ModelException {
        List<Future<?>> others = new ArrayList<>(claimed.size() - 1);
        List<Integer> here = new ArrayList<>(List.of(0));
        for (int i = 1; i < claimed.size(); i++) {
            int index = i;
            try {
                others.add(partThreads.submit(() -> {
                    runReleasing(claimed.get(index), index, task);
                    return null;
                }));
            } catch (RuntimeException | Error noThread) { // closing, or no thread could be started
                here.add(index);
            }
        }
        Throwable failure = null;
        for (int index : here) {
            try {
                runReleasing(claimed.get(index), index, task);
            } catch (ModelException | RuntimeException | Error e) {
                failure = failure == null ? e : failure;
            }
        }
        for (Future<?> other : others) {
            try {
                getUninterruptibly(other);
            } catch (ExecutionException e) {
                failure = failure == null ? e.getCause() : failure;
            }
        }
        if (failure instanceof ModelException m) {
            throw m;
        }
        if (failure instanceof RuntimeException r) {
            throw r;
        }
        if (failure instanceof Error e) {
            throw e;
        }
        if (failure != null) {
            throw new IllegalStateException("a task on an inference worker failed unexpectedly", failure);
        }
    }

    private void runReleasing(Worker worker, int index, OnWorker task) throws ModelException {
        try {
            task.run(index, worker);
        } finally {
            release(worker);
        }
    }

    /** A part's result, waited for to the end even when interrupted: its worker must be released first. */
    private static void getUninterruptibly(Future<?> future) throws ExecutionException {
        boolean interrupted = false;
        try {
            while (true) {
                try {
                    future.get();
                    return;
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    /**
     * Up to {@code wanted} idle workers, busy from now on: as many as are idle once it is this caller's turn. Callers
     * take turns in arrival order, and wait while every worker is busy; so a batch waits for the first worker to
     * come free, not for one it was assigned when it arrived.
     */
    private List<Worker> claim(int wanted) {
        List<Worker> claimed = new ArrayList<>(workers.size()); // allocated before the turn is taken
        synchronized (workers) {
            long ticket = nextTicket++;
            boolean interrupted = false;
            try {
                while (ticket != serving || free() == 0) {
                    try {
                        workers.wait();
                    } catch (InterruptedException e) {
                        interrupted = true; // a claimed turn must be used, or every later caller would wait forever
                    }
                }
                for (Worker w : workers) {
                    if (!w.busy && claimed.size() < wanted) {
                        w.busy = true;
                        claimed.add(w);
                    }
                }
            } finally {
                serving = Math.max(serving, ticket + 1);
                workers.notifyAll();
                if (interrupted) {
                    Thread.currentThread().interrupt();
                }
            }
            return claimed;
        }
    }

    /** Workers not running a batch or part of one right now. */
    public int freeWorkers() {
        synchronized (workers) {
            return free();
        }
    }

    /** As {@link #freeWorkers}, for a caller that holds the lock on {@code workers}. */
    private int free() {
        int free = 0;
        for (Worker w : workers) {
            free += w.busy ? 0 : 1;
        }
        return free;
    }

    private void release(Worker worker) {
        synchronized (workers) {
            worker.busy = false;
            workers.notifyAll();
        }
    }

    /** Per worker: device, batches and images run so far, and 1 while it runs a batch or part of one, else 0. */
    public record WorkerStats(int device, long batches, long images, int inFlight) {
    }

    public List<WorkerStats> stats() {
        synchronized (workers) {
            return workers.stream().map(w -> new WorkerStats(w.device, w.batches.get(), w.images.get(),
                    w.busy ? 1 : 0)).toList();
        }
    }

    @Override
    public void close() {
        partThreads.shutdown();
        workers.forEach(w -> w.classifier.close());
    }

    private static final class Worker {
        final int device;
        final OnnxClassifier classifier;
        /** Running a batch or part of one; guarded by the pool's worker list. */
        boolean busy;
        final AtomicLong batches = new AtomicLong();
        final AtomicLong images = new AtomicLong();

        Worker(int device, OnnxClassifier classifier) {
            this.device = device;
            this.classifier = classifier;
        }

        /** This worker's session: a caller holds it from {@link #claim} until {@link #release}. */
        Session session() {
            return (batch, from, count, maps) -> {
                float[] out = classifier.run(batch, from, count, maps);
                batches.incrementAndGet();
                images.addAndGet(count);
                return out;
            };
        }
    }
}
