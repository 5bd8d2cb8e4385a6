package io.labelstream.model;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * {@code model.reload=watch}: notices when the content of the model file or its labels file changes, loads and
 * checks the new model in the background, and has the engine switch to it ({@link LabelingEngine#swap}). A model
 * that fails to load or to pass its checks is refused with a log line naming the file and the reason, and the
 * model in use keeps labeling; it is tried again only when the files change again.
 *
 * <p>Files are looked at, not watched: every interval it reads their size, modification time and file key (the
 * inode), following symbolic links, so an atomic rename over the file and a Kubernetes volume's swapped
 * {@code ..data} link are both seen, on any file system. Content is hashed only when those change, and a model is
 * loaded only when its content (SHA-256) differs from the one in use: touching a file reloads nothing.
 */
public final class ModelReloader implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(ModelReloader.class);

    /** What a reload did, for metrics. */
    public interface Listener {
        void loaded(ModelId replaced, ModelId now);

        void refused(String reason);
    }

    /** A check of the caller's own, e.g. that its moderation rules name classes the new model has. */
    public interface Check {
        /** @throws IllegalArgumentException saying why the candidate cannot be used */
        void check(LoadedModel candidate);
    }

    /**
     * @param labels      null when classes are named by number
     * @param name        the model name given in the configuration, or null for the file's name
     * @param warmUpBatch images in the warm-up batch a new model must run before it is used
     * @param sideModel   the side model these files are of, or null for the primary
     */
    public record Watched(Path model, Path labels, String name, SessionSettings settings, int warmUpBatch,
                          Duration interval, String sideModel, ExplainSettings explain) {

        public Watched(Path model, Path labels, String name, SessionSettings settings, int warmUpBatch,
                       Duration interval) {
            this(model, labels, name, settings, warmUpBatch, interval, null, ExplainSettings.NONE);
        }

        public Watched(Path model, Path labels, String name, SessionSettings settings, int warmUpBatch,
                       Duration interval, String sideModel) {
            this(model, labels, name, settings, warmUpBatch, interval, sideModel, ExplainSettings.NONE);
        }

        private String settingPrefix() {
            return sideModel == null ? "model." : "models." + sideModel + ".";
        }
    }

    /** What identifies the files' content: the SHA-256 of each (null for no labels file). */
    private record Contents(String model, String labels) {
    }

    /** What is cheap to read and changes whenever a file is replaced or written. */
    private record Fingerprint(Object model, Object labels) {
    }

    private final Watched watched;
    private final LabelingEngine engine;
    private final Check check;
    private final Listener listener;
    private final ScheduledExecutorService scheduler;
    private Fingerprint lastSeen;
    private Contents active;
    private Contents refused;

    private ModelReloader(Watched watched, LabelingEngine engine, Check check, Listener listener) {
        this.watched = watched;
        this.engine = engine;
        this.check = check;
        this.listener = listener;
        LoadedModel current = current();
        this.active = new Contents(current.identity().sha256(), current.labelsSha256());
        // One watcher per model: the primary's thread and each side model's are told apart by name.
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "labelstream-model-watch" + (watched.sideModel() == null ? ""
                    : "-" + watched.sideModel()));
            t.setDaemon(true);
            return t;
        });
    }

    /**
     * Starts watching. The first look is at once: a file replaced between the engine's start and this call is
     * loaded too.
     */
    public static ModelReloader start(Watched watched, LabelingEngine engine, Check check, Listener listener) {
        ModelReloader reloader = new ModelReloader(watched, engine, check, listener);
        reloader.scheduler.scheduleWithFixedDelay(reloader::lookSafely, 0, watched.interval().toMillis(),
                TimeUnit.MILLISECONDS);
        log.info("Watching {}{} for a new model every {} ms", watched.model(),
                watched.labels() == null ? "" : " and " + watched.labels(), watched.interval().toMillis());
        return reloader;
    }

    /** The model in use for these files. */
    private LoadedModel current() {
        return watched.sideModel() == null ? engine.primaryModel()
                : engine.models().side(watched.sideModel()).serving().model();
    }

    private void lookSafely() {
        try {
            look();
        } catch (Throwable t) { // a scheduled task that throws is never run again
            log.error("Model watch failed; trying again in {} ms", watched.interval().toMillis(), t);
            lastSeen = null;
        }
    }

    private void look() {
        Fingerprint now;
        Contents contents;
        try {
            now = new Fingerprint(fingerprint(watched.model()), fingerprint(watched.labels()));
            if (now.equals(lastSeen)) {
                return;
            }
            contents = new Contents(LoadedModel.sha256(watched.model()), sha256OrNull(watched.labels()));
        } catch (IOException e) {
            // Mid-replacement a file can be missing for a moment; the next look sees the finished state.
            log.debug("Cannot read the model files now ({}); looking again in {} ms", e.toString(),
                    watched.interval().toMillis());
            return;
        }
        lastSeen = now;
        if (contents.equals(active) || contents.equals(refused)) {
            return;
        }
        load(contents);
    }

    private void load(Contents contents) {
        String prefix = watched.settingPrefix();
        String files = prefix + "path=" + watched.model() + (watched.labels() == null ? ""
                : " with " + prefix + (watched.sideModel() == null ? "labels.path=" : "labels=") + watched.labels());
        log.info("The model files changed (sha256 {}); loading {}", contents.model(), files);
        long t0 = System.nanoTime();
        LoadedModel candidate;
        try {
            candidate = LoadedModel.load(watched.model(), watched.labels(), watched.name(), watched.settings(),
                    watched.explain());
        } catch (ModelException | IOException | RuntimeException e) {
            refuse(contents, files, "it does not load: " + e.getMessage());
            return;
        }
        try {
            if (!contents.equals(new Contents(LoadedModel.sha256(watched.model()), sha256OrNull(watched.labels())))) {
                candidate.close();
                lastSeen = null;
                log.info("{} changed again while it was loaded; loading the newest at the next look", files);
                return;
            }
            check.check(candidate);
            ModelId replaced = watched.sideModel() == null ? engine.swap(candidate, watched.warmUpBatch())
                    : engine.swapSide(watched.sideModel(), candidate, watched.warmUpBatch());
            active = contents;
            refused = null;
            log.info("Switched from model {} (sha256 {}) to {} version {} (sha256 {}) in {} ms: new batches use it,"
                            + " batches already taken finish on the old one", replaced.name(), replaced.sha256(),
                    candidate.identity().name(), candidate.identity().versionOrUnknown(), candidate.identity().sha256(),
                    (System.nanoTime() - t0) / 1_000_000);
            listener.loaded(replaced, candidate.identity());
        } catch (ModelException e) {
            candidate.close();
            refuse(contents, files, "its warm-up batch of " + watched.warmUpBatch() + " failed: " + e.getMessage());
        } catch (IOException | RuntimeException e) {
            candidate.close();
            refuse(contents, files, e.getMessage());
        }
    }

    private void refuse(Contents contents, String files, String reason) {
        refused = contents;
        log.warn("Refused the new model in {}: {}. The model in use ({} sha256 {}) keeps labeling", files, reason,
                current().identity().name(), current().identity().sha256());
        listener.refused(reason);
    }

    private static Object fingerprint(Path file) throws IOException {
        if (file == null) {
            return null;
        }
        BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
        return java.util.List.of(a.size(), a.lastModifiedTime(), Objects.requireNonNullElse(a.fileKey(), ""),
                file.toRealPath().toString());
    }

    private static String sha256OrNull(Path file) throws IOException {
        return file == null ? null : LoadedModel.sha256(file);
    }

    /** Stops watching, after a load that is under way has finished (it could otherwise swap a closed engine). */
    @Override
    public void close() {
        scheduler.shutdown(); // cancels the periodic look; one that runs now finishes
        try {
            if (!scheduler.awaitTermination(30, TimeUnit.SECONDS)) {
                log.warn("A model load still runs after 30 s; leaving it (the engine refuses it once closed)");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
