package io.labelstream.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** A model's inference workers together with its labels and the identity written into every output record. */
public final class LoadedModel implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(LoadedModel.class);

    private final InferencePool inferencePool;
    private final LabelSet labels;
    private final ModelId identity;
    /** Of the labels file; null when classes are named by number. */
    private final String labelsSha256;
    private final ExplainSettings explain;
    /** Null when its session does not put out the feature map. */
    private final ClassActivationMaps maps;

    private LoadedModel(InferencePool inferencePool, LabelSet labels, ModelId identity, String labelsSha256,
                        ExplainSettings explain, ClassActivationMaps maps) {
        this.inferencePool = inferencePool;
        this.labels = labels;
        this.identity = identity;
        this.labelsSha256 = labelsSha256;
        this.explain = explain;
        this.maps = maps;
    }

    /**
     * Loads the model and checks that the labels file has exactly one name per output class.
     *
     * @param labelsFile may be null: classes are then named by number
     * @param name       may be null: the file name without extension
     */
    public static LoadedModel load(Path modelFile, Path labelsFile, String name, SessionSettings settings)
            throws ModelException, IOException {
        return load(modelFile, labelsFile, name, settings, ExplainSettings.NONE);
    }

    /**
     * As {@link #load(Path, Path, String, SessionSettings)}; when {@code explain} needs maps, the model's sessions
     * put out its feature map too ({@link ClassActivationMaps}).
     *
     * @throws ModelException also when {@code explain.top() > 0} and the model does not end in pooling and a linear
     *                        layer (with maps wanted on flags only, it is loaded without them, with a warning)
     */
    public static LoadedModel load(Path modelFile, Path labelsFile, String name, SessionSettings settings,
                                   ExplainSettings explain) throws ModelException, IOException {
        String sha256 = sha256(modelFile);
        ClassActivationMaps.Prepared prepared = null;
        if (explain.needsMaps()) {
            try {
                prepared = ClassActivationMaps.prepare(ai.onnx.proto.OnnxMl.ModelProto.parseFrom(
                        Files.readAllBytes(modelFile)));
            } catch (ModelException e) {
                if (explain.top() > 0) {
                    throw e;
                }
                // Maps were only wanted on flags, which a model without the tail still raises: say so, once.
                LOG.warn("{}: flagged records will carry no class activation maps (moderation.explain): {}",
                        modelFile, e.getMessage());
            }
        }
        InferencePool pool = InferencePool.open(modelFile, sha256, settings,
                prepared == null ? null : prepared.model().toByteArray());
        try {
            if (prepared != null && prepared.maps().classes() != pool.classes()) {
                throw new ModelException(modelFile + ": the classifier " + prepared.maps().tail() + ", but the model"
                        + " puts out " + pool.classes() + " classes");
            }
            if (prepared != null && prepared.maps().channels() != pool.mapShape()[0]) {
                throw new ModelException(modelFile + ": " + prepared.maps().tail() + ", but the feature map has "
                        + pool.mapShape()[0] + " channels");
            }
            String labelsSha256 = labelsFile == null ? null : sha256(labelsFile);
            LabelSet labels = labelsFile == null ? LabelSet.numbered(pool.classes()) : LabelSet.read(labelsFile);
            if (labels.size() != pool.classes()) {
                throw new ModelException("labels file " + labelsFile + " has " + labels.size()
                        + " lines but model " + modelFile + " has " + pool.classes() + " classes");
            }
            String modelName = name != null && !name.isBlank() ? name : stripExtension(modelFile);
            ModelId identity = new ModelId(modelName, pool.modelVersion(), sha256);
            return new LoadedModel(pool, labels, identity, labelsSha256, explain,
                    prepared == null ? null : prepared.maps());
        } catch (ModelException | IOException | RuntimeException e) {
            pool.close();
            throw e;
        }
    }

    private static String stripExtension(Path file) {
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    public static String sha256(Path file) throws IOException {
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), MessageDigest.getInstance("SHA-256"))) {
            in.transferTo(java.io.OutputStream.nullOutputStream());
            return HexFormat.of().formatHex(((DigestInputStream) in).getMessageDigest().digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    /** The inference workers (one session per device). */
    public InferencePool inferencePool() {
        return inferencePool;
    }

    /** What the model takes: one image tensor of this shape. */
    public ModelInput input() {
        return inferencePool.input();
    }

    /** How many classes the model scores. */
    public int classes() {
        return inferencePool.classes();
    }

    public LabelSet labels() {
        return labels;
    }

    public ModelId identity() {
        return identity;
    }

    /** SHA-256 of the labels file it was loaded with; null when its classes are named by number. */
    public String labelsSha256() {
        return labelsSha256;
    }

    /** Which of its labels carry a class activation map. */
    public ExplainSettings explain() {
        return explain;
    }

    /** How its class activation maps are made; null when its sessions do not put out the feature map. */
    public ClassActivationMaps activationMaps() {
        return maps;
    }

    @Override
    public void close() {
        inferencePool.close();
    }
}
