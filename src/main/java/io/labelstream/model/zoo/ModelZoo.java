package io.labelstream.model.zoo;

import java.net.URI;
import java.util.List;
import java.util.Locale;

/**
 * The ONNX Model Zoo classifiers that {@code labelstream model fetch} can download, each pinned to the size and
 * SHA-256 of its file. Nothing in labelstream downloads anything unless a user runs {@code model fetch}.
 *
 * <p>The Zoo's files are served by its Hugging Face repository {@value #REPOSITORY}, under the paths they had in
 * the Zoo's GitHub repository ({@code onnx/models}), which no longer serves them. The digests are those of the
 * Git LFS pointers of {@code onnx/models} at its last commit (b1eeaa1ac722dcc1cd1a8284bde34393dab61c3d); the
 * Hugging Face repository mirrors those objects, and a download is refused unless it matches them.
 */
public final class ModelZoo {

    public static final String REPOSITORY = "onnxmodelzoo/legacy_models";

    /**
     * {@code main}, not a commit: no full commit id of the repository holding every file below could be read from
     * a public source when this was pinned. The digests keep this safe: a file that changes there is refused.
     */
    public static final String REVISION = "main";

    /** Hugging Face, unless {@code HF_ENDPOINT} names a mirror of it (as Hugging Face's own tools read it). */
    public static final String DEFAULT_ENDPOINT = "https://huggingface.co";

    /** One downloadable file: its path in the Zoo's repository, its size and digest. */
    public record Artifact(String path, long size, String sha256) {
        public String fileName() {
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    /** How the weights are stored: int8 models come as ONNX Runtime's QLinear operators or as QDQ pairs. */
    public enum Precision {
        FP32("fp32"), INT8_QLINEAR("int8 (QLinear)"), INT8_QDQ("int8 (QDQ)");

        private final String label;

        Precision(String label) {
            this.label = label;
        }

        public String label() {
            return label;
        }
    }

    /** A model with its class list and the preset its preprocessing matches. */
    public record Entry(String name, Artifact model, Precision precision, Artifact labels, String preset,
                        String description) {
    }

    /**
     * The 1000 ImageNet class names of the Zoo's classifiers ({@code onnx/models}, Apache-2.0). The file is a
     * plain Git file there, not an LFS object, and the Hugging Face copy is not known to hold it, so labelstream
     * ships it (resource {@value #CLASS_LIST_RESOURCE}) and writes it beside the model, verified the same way.
     */
    public static final Artifact IMAGENET_CLASSES = new Artifact("validated/vision/classification/synset.txt",
            31_675, "acf75ef0abe89694b19056e0796401068b459c457baa30335f240c7692857355");

    static final String CLASS_LIST_RESOURCE = "/io/labelstream/model/zoo/synset.txt";

    private static final String RESNETS = "validated/vision/classification/resnet/model/";

    /**
     * Every ResNet the Zoo publishes in full precision (MXNet v1 and v2, opset 7, input {@code data}
     * [N,3,224,224]), then ResNet-50 v1 at opset 12 and its two int8 versions.
     */
    public static final List<Entry> CATALOG = List.of(
            resnet("resnet50", "resnet50-v1-7.onnx", 102_583_340,
                    "af16a04a6ec48ac494065d4439fe9dea590d337b9ca6dc328160ccf04a217b9c", Precision.FP32,
                    "ResNet-50 v1, opset 7"),
            resnet("resnet18", "resnet18-v1-7.onnx", 46_820_737,
                    "4e8f8653e7a2222b3904cc3fe8e304cd8b339ce1d05fd24688162f86fb6df52c", Precision.FP32,
                    "ResNet-18 v1, opset 7"),
            resnet("resnet18-v2", "resnet18-v2-7.onnx", 46_806_737,
                    "3b4d048057854022232aa20bf68262e31718ab7119a17f920b8a2dc1433f824b", Precision.FP32,
                    "ResNet-18 v2, opset 7"),
            resnet("resnet34", "resnet34-v1-7.onnx", 87_302_588,
                    "883a41b2e30ddc2e422c108b091b5e70b92d37dc5c345a2c563dcae27971e2cc", Precision.FP32,
                    "ResNet-34 v1, opset 7"),
            resnet("resnet34-v2", "resnet34-v2-7.onnx", 87_288_587,
                    "3d3815e25f4b1ea967e2a526a3b27ef2a03af1725bdc199a63a271c26862d914", Precision.FP32,
                    "ResNet-34 v2, opset 7"),
            resnet("resnet50-v2", "resnet50-v2-7.onnx", 102_442_452,
                    "79102261eb6e5fd7af5d27f41316293e388c5cb691e5d25bfb035c4f64fefe31", Precision.FP32,
                    "ResNet-50 v2, opset 7"),
            resnet("resnet101", "resnet101-v1-7.onnx", 178_914_043,
                    "760702f6ec0138f71ebac66f4e95d1c72dc9267a8544f4d4667a53075fd0497c", Precision.FP32,
                    "ResNet-101 v1, opset 7"),
            resnet("resnet101-v2", "resnet101-v2-7.onnx", 178_682_301,
                    "3a0a819ea0953fb4700b0d98e43540aeee253e5b4c503c552b0c7979fc67767d", Precision.FP32,
                    "ResNet-101 v2, opset 7"),
            resnet("resnet152", "resnet152-v1-7.onnx", 241_816_206,
                    "b0ec92437bf8c9d0739bf9bafdea9638e13f9e3c1e2fb766ad546cc182fd3f6d", Precision.FP32,
                    "ResNet-152 v1, opset 7"),
            resnet("resnet152-v2", "resnet152-v2-7.onnx", 241_503_848,
                    "40fb3f6dd313ba786a2c8077a0ef7d7b4afeda5d037365400d3a7fbc2b1bee64", Precision.FP32,
                    "ResNet-152 v2, opset 7"),
            resnet("resnet50-v1-12", "resnet50-v1-12.onnx", 102_576_593,
                    "3f03fdef724b22947eed826f1eef1dc5c34151bb4c37d634f1db89dfa2dd1526", Precision.FP32,
                    "ResNet-50 v1, opset 12: the model the int8 versions were made from"),
            resnet("resnet50-int8", "resnet50-v1-12-int8.onnx", 25_816_052,
                    "c234f30975989788b4405f25253275aae247ab6dbdd34aaa69ab0a59ff76f6d0", Precision.INT8_QLINEAR,
                    "ResNet-50 v1, opset 12, quantized to int8 with QLinear operators"),
            resnet("resnet50-qdq", "resnet50-v1-12-qdq.onnx", 25_753_167,
                    "e6429d274805654c79ba68dc886c1efd4eff95393e747c35d3fdab579febd8a0", Precision.INT8_QDQ,
                    "ResNet-50 v1, opset 12, quantized to int8 as QuantizeLinear/DequantizeLinear pairs"));

    private ModelZoo() {
    }

    private static Entry resnet(String name, String file, long size, String sha256, Precision precision,
                                String description) {
        return new Entry(name, new Artifact(RESNETS + file, size, sha256), precision, IMAGENET_CLASSES, "imagenet",
                description + ", ImageNet-1k");
    }

    public static Entry entry(String name) {
        return CATALOG.stream().filter(e -> e.name().equals(name.toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown model '" + name + "'; available: "
                        + String.join(", ", CATALOG.stream().map(Entry::name).toList())));
    }

    /**
     * Where the files are: {@code <endpoint>/onnxmodelzoo/legacy_models/resolve/<revision>/}, below which each
     * file keeps its path in the Zoo. {@code endpoint} is {@code HF_ENDPOINT} when set, else Hugging Face.
     */
    public static URI defaultBase(String hfEndpoint) {
        String endpoint = hfEndpoint == null || hfEndpoint.isBlank() ? DEFAULT_ENDPOINT : hfEndpoint.strip();
        return URI.create(endpoint.replaceAll("/+$", "") + "/" + REPOSITORY + "/resolve/" + REVISION + "/");
    }
}
