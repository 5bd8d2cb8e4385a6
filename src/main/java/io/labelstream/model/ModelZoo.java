package io.labelstream.model;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.function.LongConsumer;

/**
 * Pretrained classifiers from the ONNX Model Zoo, downloaded on request into the cache folder and verified
 * against SHA-256 digests pinned here (taken from the Model Zoo repository's Git LFS pointers). Nothing in
 * labelstream downloads anything unless a user runs {@code labelstream model fetch}.
 */
public final class ModelZoo {

    /** The Model Zoo's files are served from its GitHub repository (LFS objects through /raw/ redirects). */
    public static final String DEFAULT_BASE = "https://github.com/onnx/models/raw/main/";

    /** One downloadable file: where it lives below the base, its size and digest. */
    public record Artifact(String path, long size, String sha256) {
        public String fileName() {
            return path.substring(path.lastIndexOf('/') + 1);
        }
    }

    /** A model with its class list and the preset its preprocessing matches. */
    public record Entry(String name, Artifact model, Artifact labels, String preset, String description) {
    }

    private static final Artifact IMAGENET_SYNSET = new Artifact("validated/vision/classification/synset.txt",
            31_675, "acf75ef0abe89694b19056e0796401068b459c457baa30335f240c7692857355");

    /**
     * Every ResNet the Model Zoo publishes in full precision (MXNet v1 and v2, opset 7, input {@code data}
     * [N,3,224,224]), pinned to the SHA-256 and size of its Git LFS pointer at the Zoo's last commit (b1eeaa1).
     */
    public static final List<Entry> CATALOG = List.of(
            new Entry("resnet50", new Artifact("validated/vision/classification/resnet/model/resnet50-v1-7.onnx",
                    102_583_340, "af16a04a6ec48ac494065d4439fe9dea590d337b9ca6dc328160ccf04a217b9c"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-50 v1, ImageNet-1k, opset 7"),
            new Entry("resnet18", new Artifact("validated/vision/classification/resnet/model/resnet18-v1-7.onnx",
                    46_820_737, "4e8f8653e7a2222b3904cc3fe8e304cd8b339ce1d05fd24688162f86fb6df52c"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-18 v1, ImageNet-1k, opset 7"),
            new Entry("resnet18-v2", new Artifact("validated/vision/classification/resnet/model/resnet18-v2-7.onnx",
                    46_806_737, "3b4d048057854022232aa20bf68262e31718ab7119a17f920b8a2dc1433f824b"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-18 v2, ImageNet-1k, opset 7"),
            new Entry("resnet34", new Artifact("validated/vision/classification/resnet/model/resnet34-v1-7.onnx",
                    87_302_588, "883a41b2e30ddc2e422c108b091b5e70b92d37dc5c345a2c563dcae27971e2cc"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-34 v1, ImageNet-1k, opset 7"),
            new Entry("resnet34-v2", new Artifact("validated/vision/classification/resnet/model/resnet34-v2-7.onnx",
                    87_288_587, "3d3815e25f4b1ea967e2a526a3b27ef2a03af1725bdc199a63a271c26862d914"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-34 v2, ImageNet-1k, opset 7"),
            new Entry("resnet50-v2", new Artifact("validated/vision/classification/resnet/model/resnet50-v2-7.onnx",
                    102_442_452, "79102261eb6e5fd7af5d27f41316293e388c5cb691e5d25bfb035c4f64fefe31"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-50 v2, ImageNet-1k, opset 7"),
            new Entry("resnet101", new Artifact("validated/vision/classification/resnet/model/resnet101-v1-7.onnx",
                    178_914_043, "760702f6ec0138f71ebac66f4e95d1c72dc9267a8544f4d4667a53075fd0497c"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-101 v1, ImageNet-1k, opset 7"),
            new Entry("resnet101-v2", new Artifact("validated/vision/classification/resnet/model/resnet101-v2-7.onnx",
                    178_682_301, "3a0a819ea0953fb4700b0d98e43540aeee253e5b4c503c552b0c7979fc67767d"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-101 v2, ImageNet-1k, opset 7"),
            new Entry("resnet152", new Artifact("validated/vision/classification/resnet/model/resnet152-v1-7.onnx",
                    241_816_206, "b0ec92437bf8c9d0739bf9bafdea9638e13f9e3c1e2fb766ad546cc182fd3f6d"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-152 v1, ImageNet-1k, opset 7"),
            new Entry("resnet152-v2", new Artifact("validated/vision/classification/resnet/model/resnet152-v2-7.onnx",
                    241_503_848, "40fb3f6dd313ba786a2c8077a0ef7d7b4afeda5d037365400d3a7fbc2b1bee64"),
                    IMAGENET_SYNSET, "imagenet", "ResNet-152 v2, ImageNet-1k, opset 7"));

    private final URI base;
    private final Path cacheDir;
    private final HttpClient http;

    public ModelZoo(URI base, Path cacheDir) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.cacheDir = cacheDir;
        this.http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NORMAL).build();
    }

    public static Entry entry(String name) {
        return CATALOG.stream().filter(e -> e.name().equals(name.toLowerCase(Locale.ROOT))).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown model '" + name + "'; available: "
                        + String.join(", ", CATALOG.stream().map(Entry::name).toList())));
    }

    /** Where a fetched artifact is kept. */
    public Path location(Artifact artifact) {
        return cacheDir.resolve(artifact.fileName());
    }

    /**
     * Returns the verified local file, downloading it first unless a file with the pinned digest is already
     * cached. A download is written to a temporary file and only moved into place once its size and digest
     * match, so the cache never holds a partial or altered file.
     */
    public Path fetch(Artifact artifact, LongConsumer progress) throws IOException {
        Path target = location(artifact);
        if (Files.isRegularFile(target) && LoadedModel.sha256(target).equals(artifact.sha256())) {
            return target;
        }
        Files.createDirectories(cacheDir);
        URI uri = base.resolve(artifact.path());
        Path part = Files.createTempFile(cacheDir, artifact.fileName(), ".part");
        try {
            HttpResponse<InputStream> response;
            try {
                response = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(10)).GET().build(),
                        HttpResponse.BodyHandlers.ofInputStream());
            } catch (IOException e) {
                throw new IOException("cannot download " + uri + " (" + describe(e) + "). 'model fetch' is the only "
                        + "part of labelstream that uses the network; on an offline machine, download the file "
                        + "elsewhere and pass it with --model", e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while downloading " + uri, e);
            }
            if (response.statusCode() != 200) {
                response.body().close();
                throw new IOException("cannot download " + uri + ": HTTP " + response.statusCode());
            }
            MessageDigest digest = sha256();
            long copied = 0;
            try (InputStream in = response.body();
                 OutputStream out = new DigestOutputStream(Files.newOutputStream(part), digest)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    out.write(buffer, 0, n);
                    copied += n;
                    progress.accept(copied);
                    if (copied > artifact.size()) {
                        break;
                    }
                }
            }
            String actual = HexFormat.of().formatHex(digest.digest());
            if (copied != artifact.size() || !actual.equals(artifact.sha256())) {
                throw new IOException("downloaded " + uri + " does not match its pinned digest: got " + copied
                        + " bytes with SHA-256 " + actual + ", expected " + artifact.size() + " bytes with SHA-256 "
                        + artifact.sha256() + "; nothing was kept");
            }
            Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            return target;
        } finally {
            Files.deleteIfExists(part);
        }
    }

    private static String describe(IOException e) {
        String message = e.getMessage();
        return e.getClass().getSimpleName() + (message == null || message.isBlank() ? "" : ": " + message);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
