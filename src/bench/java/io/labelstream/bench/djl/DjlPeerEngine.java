package io.labelstream.bench.djl;

import ai.djl.engine.Engine;
import ai.djl.inference.Predictor;
import ai.djl.modality.Classifications;
import ai.djl.modality.cv.Image;
import ai.djl.modality.cv.ImageFactory;
import ai.djl.modality.cv.transform.CenterCrop;
import ai.djl.modality.cv.transform.Normalize;
import ai.djl.modality.cv.transform.ResizeShort;
import ai.djl.modality.cv.transform.ToTensor;
import ai.djl.modality.cv.translator.ImageClassificationTranslator;
import ai.djl.repository.zoo.Criteria;
import ai.djl.repository.zoo.ZooModel;
import ai.onnxruntime.OrtEnvironment;
import io.labelstream.bench.PeerEngine;

import java.io.ByteArrayInputStream;
import java.nio.file.Path;
import java.util.AbstractList;
import java.util.ArrayList;
import java.util.List;

/**
 * One model under DJL, set up the way its documentation suggests for an ImageNet classifier: a Criteria with the
 * OnnxRuntime engine and an {@link ImageClassificationTranslator}, and one {@code batchPredict} per batch.
 */
final class DjlPeerEngine implements PeerEngine {

    private static final float[] MEAN = {0.485f, 0.456f, 0.406f};
    private static final float[] STD = {0.229f, 0.224f, 0.225f};
    private static final String CLASS_PREFIX = "class-";

    private final ZooModel<Image, Classifications> model;
    private final Predictor<Image, Classifications> predictor;
    private final ImageFactory images = ImageFactory.getInstance();
    private final String description;

    private DjlPeerEngine(ZooModel<Image, Classifications> model, int threads) {
        this.model = model;
        this.predictor = model.newPredictor();
        this.description = describe(threads);
    }

    static DjlPeerEngine open(Path modelFile, int threads) throws Exception {
        ImageClassificationTranslator translator = ImageClassificationTranslator.builder()
                // torchvision's Resize(256) on a single int is "shorter side to 256"; DJL's Resize(256) would
                // squash to 256×256, ResizeShort keeps the aspect ratio like torchvision does.
                .addTransform(new ResizeShort(256))
                .addTransform(new CenterCrop(224, 224))
                .addTransform(new ToTensor())
                .addTransform(new Normalize(MEAN, STD))
                .optSynset(classNames(OnnxClassCount.of(modelFile)))
                .build();
        Criteria<Image, Classifications> criteria = Criteria.builder()
                .setTypes(Image.class, Classifications.class)
                .optEngine("OnnxRuntime")
                .optModelPath(modelFile)
                .optTranslator(translator)
                // Same session settings as labelstream's engine and the bare ORT loop, through DJL's own options.
                .optOption("intraOpNumThreads", Integer.toString(threads))
                .optOption("interOpNumThreads", "1")
                .optOption("executionMode", "SEQUENTIAL")
                .optOption("optLevel", "ALL_OPT")
                .build();
        ZooModel<Image, Classifications> model = criteria.loadModel();
        try {
            return new DjlPeerEngine(model, threads);
        } catch (RuntimeException e) {
            model.close();
            throw e;
        }
    }

    @Override
    public String description() {
        return description;
    }

    @Override
    public int[] classify(List<byte[]> encoded) throws Exception {
        List<Image> decoded = new ArrayList<>(encoded.size());
        for (byte[] bytes : encoded) {
            decoded.add(images.fromInputStream(new ByteArrayInputStream(bytes)));
        }
        List<Classifications> results = predictor.batchPredict(decoded);
        int[] top1 = new int[results.size()];
        for (int i = 0; i < top1.length; i++) {
            top1[i] = Integer.parseInt(results.get(i).best().getClassName().substring(CLASS_PREFIX.length()));
        }
        return top1;
    }

    @Override
    public void close() {
        predictor.close();
        model.close();
    }

    /** Names that carry their own index ("class-0042"), so the best class maps back to a number without lookups. */
    private static List<String> classNames(int count) {
        return new AbstractList<>() {
            @Override
            public String get(int index) {
                return String.format("%s%04d", CLASS_PREFIX, index);
            }

            @Override
            public int size() {
                return count;
            }
        };
    }

    private String describe(int threads) {
        // OrtEngine.getVersion() reports the ORT DJL was built against, not the one loaded; ask ORT itself.
        return String.format("DJL %s, OnnxRuntime engine on ONNX Runtime %s (intraOpNumThreads=%d, "
                        + "interOpNumThreads=1, executionMode=SEQUENTIAL, optLevel=ALL_OPT), image transforms on the "
                        + "PyTorch engine %s; decode %s; ImageClassificationTranslator: ResizeShort(256, bilinear, no "
                        + "antialias) → CenterCrop(224, 224) → ToTensor → Normalize(mean 0.485/0.456/0.406, "
                        + "std 0.229/0.224/0.225), no softmax; one batchPredict per batch",
                Engine.getDjlVersion(), OrtEnvironment.getEnvironment().getVersion(), threads,
                Engine.getEngine("PyTorch").getVersion(), images.getClass().getSimpleName());
    }
}
