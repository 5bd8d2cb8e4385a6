package io.labelstream.model;

import ai.onnxruntime.NodeInfo;
import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.TensorInfo;
import io.labelstream.image.TensorLayout;

import java.nio.file.Path;
import java.util.Map;

/**
 * One ONNX Runtime session for an image classifier with a single NCHW float32 input and a single
 * [batch, classes] output. {@link #run} is thread-safe (ORT sessions are), so stream tasks share one instance.
 */
public final class OnnxClassifier implements AutoCloseable {

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(OnnxClassifier.class);

    private final OrtEnvironment environment;
    private final OrtSession session;
    private final ModelInput input;
    private final String outputName;
    /** The outputs a run asks for: the scores, and the scores with the feature map. */
    private final java.util.Set<String> scoresOnly;
    private final java.util.Set<String> scoresAndMaps;
    private final int classes;
    /** The feature map's channels, rows and columns when the session puts it out; null when it does not. */
    private int[] mapShape;

    private OnnxClassifier(OrtEnvironment environment, OrtSession session, ModelInput input, String outputName,
                           int classes) {
        this.environment = environment;
        this.session = session;
        this.input = input;
        this.outputName = outputName;
        this.scoresOnly = java.util.Set.of(outputName);
        this.scoresAndMaps = java.util.Set.of(outputName, ClassActivationMaps.MAP_OUTPUT);
        this.classes = classes;
    }

    /** One CPU session with {@code settings}' threads and optimization level. */
    public static OnnxClassifier load(Path modelFile, SessionSettings settings) throws ModelException {
        return load(modelFile, settings, ExecutionProvider.Kind.CPU, 0, settings.intraOpThreads(), null, null);
    }

    /**
     * One session on one device.
     *
     * @param intraOpThreads 0 lets ORT use every core
     * @param cacheFile      where to keep the optimized model (loaded instead of {@code modelFile} when it exists);
     *                       null for none
     * @param rewritten      the model to run instead of the file's, which puts out its feature map as
     *                       {@link ClassActivationMaps#MAP_OUTPUT} too; null for the file's own
     */
    static OnnxClassifier load(Path modelFile, SessionSettings settings, ExecutionProvider.Kind kind, int device,
                               int intraOpThreads, Path cacheFile, byte[] rewritten) throws ModelException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        OrtSession session = null;
        boolean cached = cacheFile != null && java.nio.file.Files.isRegularFile(cacheFile);
        // An optimized model is loaded without optimizing it again: that is the point of the cache.
        OrtSession.SessionOptions.OptLevel level = cached ? OrtSession.SessionOptions.OptLevel.NO_OPT
                : settings.optimizationLevel();
        try (OrtSession.SessionOptions options = settings.toOrtOptions(level, intraOpThreads)) {
            if (cacheFile != null && !cached) {
                java.nio.file.Files.createDirectories(cacheFile.getParent());
                options.setOptimizedModelFilePath(cacheFile.toString());
            }
            switch (kind) {
                case CUDA -> options.addCUDA(device);
                case TENSORRT -> {
                    // TensorRT takes the subgraphs it supports; CUDA runs the rest on the same device.
                    options.addTensorrt(device);
                    options.addCUDA(device);
                }
                case CPU -> { }
            }
            session = cached ? environment.createSession(cacheFile.toString(), options) : rewritten != null
                    ? environment.createSession(rewritten, options)
                    : environment.createSession(modelFile.toString(), options);
            ModelInput input = describeInput(session, modelFile);
            Map<String, NodeInfo> outputs = new java.util.LinkedHashMap<>(session.getOutputInfo());
            boolean withMaps = outputs.remove(ClassActivationMaps.MAP_OUTPUT) != null;
            Map.Entry<String, NodeInfo> output = single(outputs, "output", modelFile);
            TensorInfo outInfo = tensorInfo(output.getValue(), modelFile);
            long[] outShape = outInfo.getShape();
            if (outShape.length != 2 || outShape[1] <= 0
                    || (outInfo.type != OnnxJavaType.FLOAT && outInfo.type != OnnxJavaType.FLOAT16)) {
                throw new ModelException(modelFile + ": output '" + output.getKey() + "' has shape "
                        + outInfo.type + " " + java.util.Arrays.toString(outShape) + "; expected float [batch, classes]");
            }
            if (kind == ExecutionProvider.Kind.CPU && ModelMetadata.FULL_WEIGHT_RANGE.equals(session.getMetadata()
                    .getCustomMetadataValue(ModelMetadata.QUANTIZATION_WEIGHT_RANGE).orElse(null))
                    && Int8Kernels.saturateOnFullRangeWeights()) {
                LOG.warn("{} was quantized with --weight-range full; this CPU has no VNNI, so ONNX Runtime's int8"
                        + " kernels saturate on such weights and its labels can be wrong: quantize it again with"
                        + " --weight-range portable", modelFile);
            }
            OnnxClassifier classifier = new OnnxClassifier(environment, session, input, output.getKey(),
                    (int) outShape[1]);
            if (withMaps) {
                classifier.mapShape = classifier.measureMap();
            }
            return classifier;
        } catch (OrtException | java.io.IOException e) {
            closeQuietly(session);
            throw new ModelException("ONNX Runtime cannot load " + modelFile + " on " + kind.name().toLowerCase(
                    java.util.Locale.ROOT) + ":" + device + ": " + e.getMessage(), e);
        } catch (ModelException | RuntimeException e) {
            closeQuietly(session);
            throw e;
        }
    }

    /**
     * What a model file takes as input, without asking anything of its outputs: for tools that cut a model
     * (model adapt), where the output may be anything.
     */
    public static ModelInput readInput(Path modelFile) throws ModelException {
        OrtEnvironment environment = OrtEnvironment.getEnvironment();
        try (OrtSession.SessionOptions options = new OrtSession.SessionOptions()) {
            options.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.NO_OPT);
            try (OrtSession session = environment.createSession(modelFile.toString(), options)) {
                return describeInput(session, modelFile);
            }
        } catch (OrtException e) {
            throw new ModelException("ONNX Runtime cannot load " + modelFile + ": " + e.getMessage(), e);
        }
    }

    private static ModelInput describeInput(OrtSession session, Path modelFile) throws OrtException, ModelException {
        Map.Entry<String, NodeInfo> in = single(session.getInputInfo(), "input", modelFile);
        TensorInfo info = tensorInfo(in.getValue(), modelFile);
        long[] shape = info.getShape();
        ModelInput.ElementType type = switch (info.type) {
            case FLOAT -> ModelInput.ElementType.FLOAT32;
            case FLOAT16 -> ModelInput.ElementType.FLOAT16;
            default -> null;
        };
        TensorLayout layout = null;
        if (shape.length == 4 && shape[1] == 3 && shape[2] > 0 && shape[3] > 0) {
            layout = TensorLayout.NCHW;
        } else if (shape.length == 4 && shape[3] == 3 && shape[1] > 0 && shape[2] > 0) {
            layout = TensorLayout.NHWC;
        }
        if (type == null || layout == null) {
            throw new ModelException(modelFile + ": input '" + in.getKey() + "' is " + info.type + " "
                    + java.util.Arrays.toString(shape) + "; expected float32 or float16, [batch, 3, height, width]"
                    + " (NCHW) or [batch, height, width, 3] (NHWC)");
        }
        int height = (int) (layout == TensorLayout.NCHW ? shape[2] : shape[1]);
        int width = (int) (layout == TensorLayout.NCHW ? shape[3] : shape[2]);
        int fixedBatch = shape[0] > 0 ? (int) shape[0] : 0;
        return new ModelInput(in.getKey(), layout, type, height, width, fixedBatch);
    }

    private static Map.Entry<String, NodeInfo> single(Map<String, NodeInfo> nodes, String what, Path modelFile)
            throws ModelException {
        if (nodes.size() != 1) {
            throw new ModelException(modelFile + " has " + nodes.size() + " " + what + "s " + nodes.keySet()
                    + "; an image classifier needs exactly one");
        }
        return nodes.entrySet().iterator().next();
    }

    private static TensorInfo tensorInfo(NodeInfo node, Path modelFile) throws ModelException {
        if (!(node.getInfo() instanceof TensorInfo info)) {
            throw new ModelException(modelFile + ": '" + node.getName() + "' is not a tensor");
        }
        return info;
    }

    public ModelInput input() {
        return input;
    }

    public int classes() {
        return classes;
    }

    /** Allocates a batch tensor that {@link #run} hands to ORT without copying. */
    public TensorBatch allocateBatch(int maxImages) {
        int capacityImages = maxImages;
        if (!input.dynamicBatch()) {
            // A fixed-batch model runs in whole chunks; the last chunk is padded.
            capacityImages = ((maxImages + input.fixedBatch() - 1) / input.fixedBatch()) * input.fixedBatch();
        }
        return new TensorBatch(input, capacityImages);
    }

    /**
     * Runs the first {@code count} images of {@code batch} and returns the raw outputs, {@code count × classes()}
     * values, image-major. A fixed-batch model is run chunk by chunk.
     */
    public float[] run(TensorBatch batch, int count) throws ModelException {
        return run(batch, 0, count);
    }

    /**
     * As {@link #run(TensorBatch, int)}, for slots {@code from … from + count − 1}: one part of a batch that
     * several workers share. For a fixed-batch model {@code from} is a multiple of its batch.
     */
    public float[] run(TensorBatch batch, int from, int count) throws ModelException {
        return run(batch, from, count, null);
    }

    /**
     * As {@link #run(TensorBatch, int, int)}, also writing each image's feature map into {@code maps} at its slot
     * ({@link #mapValues()} values per slot) when it is not null: the same run's second output.
     */
    public float[] run(TensorBatch batch, int from, int count, float[] maps) throws ModelException {
        if (maps != null && mapShape == null) {
            throw new IllegalStateException("this session was loaded without its feature map");
        }
        int chunk = input.dynamicBatch() ? count : input.fixedBatch();
        float[] scores = new float[count * classes];
        OnnxJavaType type = input.elementType() == ModelInput.ElementType.FLOAT32 ? OnnxJavaType.FLOAT
                : OnnxJavaType.FLOAT16;
        for (int done = 0; done < count; done += chunk) {
            int start = from + done;
            int images = Math.min(chunk, count - done);
            int runImages = input.dynamicBatch() ? images : chunk;
            if (runImages > images) {
                batch.zero(start + images, runImages - images);
            }
            try (OnnxTensor tensor = OnnxTensor.createTensor(environment, batch.view(start, runImages),
                    input.shape(runImages), type);
                 OrtSession.Result result = session.run(Map.of(input.name(), tensor),
                         maps == null ? scoresOnly : scoresAndMaps)) {
                OnnxTensor out = (OnnxTensor) result.get(outputName).orElseThrow();
                if (maps != null) {
                    ((OnnxTensor) result.get(ClassActivationMaps.MAP_OUTPUT).orElseThrow()).getFloatBuffer()
                            .get(maps, start * mapValues(), images * mapValues());
                }
                if (out.getInfo().type == OnnxJavaType.FLOAT16) {
                    java.nio.ShortBuffer halves = out.getShortBuffer();
                    for (int i = 0; i < images * classes; i++) {
                        scores[done * classes + i] = TensorBatch.Float16.toFloat(halves.get(i));
                    }
                } else {
                    out.getFloatBuffer().get(scores, done * classes, images * classes);
                }
            } catch (OrtException | RuntimeException e) {
                throw new ModelException("inference failed on a batch of " + runImages + ": " + e.getMessage(), e);
            }
        }
        return scores;
    }

    /** The feature map's channels, rows and columns; null when the session does not put it out. */
    public int[] mapShape() {
        return mapShape == null ? null : mapShape.clone();
    }

    /** Values of one image's feature map. */
    public int mapValues() {
        return mapShape[0] * mapShape[1] * mapShape[2];
    }

    /** The feature map's shape, from one blank run: the graph declares it only as [batch, ?, ?, ?]. */
    private int[] measureMap() throws ModelException {
        int images = input.dynamicBatch() ? 1 : input.fixedBatch();
        TensorBatch blank = allocateBatch(images);
        OnnxJavaType type = input.elementType() == ModelInput.ElementType.FLOAT32 ? OnnxJavaType.FLOAT
                : OnnxJavaType.FLOAT16;
        try (OnnxTensor tensor = OnnxTensor.createTensor(environment, blank.view(0, images), input.shape(images), type);
             OrtSession.Result result = session.run(Map.of(input.name(), tensor),
                     java.util.Set.of(ClassActivationMaps.MAP_OUTPUT))) {
            OnnxTensor map = (OnnxTensor) result.get(0);
            long[] shape = map.getInfo().getShape();
            if (shape.length != 4 || map.getInfo().type != OnnxJavaType.FLOAT) {
                throw new ModelException("the feature map entering the global pooling is " + map.getInfo().type + " "
                        + java.util.Arrays.toString(shape) + "; expected float [batch, channels, rows, cols]");
            }
            return new int[] {(int) shape[1], (int) shape[2], (int) shape[3]};
        } catch (OrtException e) {
            throw new ModelException("cannot run the model to measure its feature map: " + e.getMessage(), e);
        }
    }

    /**
     * The model's own {@code model_version} from its metadata, or null when it has none (ONNX Runtime then reports
     * 0 or Long.MAX_VALUE, neither of which is a version anyone wrote); for a model {@code model quantize} wrote,
     * followed by the head it was adapted with and what the quantization was.
     */
    public String modelVersion() {
        try {
            var metadata = session.getMetadata();
            long number = metadata.getVersion();
            String version = number > 0 && number != Long.MAX_VALUE ? Long.toString(number) : null;
            // A model labelstream quantized says so, and from which calibration, e.g. "1+int8-minmax-50img-3fa2b1c4".
            // A head labelstream trained says so too, e.g. "adapt-10cls-50img-9c1e4f20", before any quantization.
            StringBuilder full = new StringBuilder(version == null ? "" : version);
            for (String key : ModelMetadata.VERSION_SUMMARIES) {
                metadata.getCustomMetadataValue(key).ifPresent(v -> full.append(full.isEmpty() ? "" : "+").append(v));
            }
            return full.isEmpty() ? null : full.toString();
        } catch (OrtException e) {
            return null;
        }
    }

    @Override
    public void close() {
        closeQuietly(session);
    }

    private static void closeQuietly(OrtSession session) {
        if (session != null) {
            try {
                session.close();
            } catch (OrtException ignored) {
                // Closing releases native memory; nothing useful to do if ORT reports an error here.
            }
        }
    }
}
