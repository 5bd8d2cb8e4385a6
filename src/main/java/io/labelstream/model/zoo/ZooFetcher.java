package io.labelstream.model.zoo;

import io.labelstream.model.LoadedModel;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.function.LongConsumer;

/**
 * Puts Model Zoo files into a cache folder, each only once it matches its pinned size and SHA-256. A download is
 * written to a part file in the same folder (named after the pinned digest, so a new pin never continues an old
 * file), continued after a transfer breaks off, and moved into place atomically once verified; a part file that
 * does not verify is deleted. The cache never holds a partial or altered file under the file's own name.
 */
public final class ZooFetcher {

    /** Tries per fetch when a transfer breaks off; each continues where the previous one stopped. */
    static final int ATTEMPTS = 3;

    private final URI base;
    private final Path cacheDir;
    private final ResumableDownload download;

    /**
     * @param base where the files are: each is at {@code base} + its path in the Zoo (see
     *             {@link ModelZoo#defaultBase(String)})
     */
    public ZooFetcher(URI base, Path cacheDir) {
        this(base, cacheDir, HttpClient.newBuilder());
    }

    /** With a client builder that tests give their own trust store. */
    ZooFetcher(URI base, Path cacheDir, HttpClient.Builder client) {
        this.base = base.toString().endsWith("/") ? base : URI.create(base + "/");
        this.cacheDir = cacheDir;
        // NORMAL: Hugging Face answers with a redirect to its CDN on another host; it is followed unless it
        // would go from https to http.
        this.download = new ResumableDownload(client.connectTimeout(Duration.ofSeconds(15))
                .followRedirects(HttpClient.Redirect.NORMAL).build());
    }

    /** Where the files are: each below this at its path in the Zoo. */
    public URI base() {
        return base;
    }

    public URI source(ModelZoo.Artifact artifact) {
        return base.resolve(artifact.path());
    }

    /** Where a fetched artifact is kept. */
    public Path location(ModelZoo.Artifact artifact) {
        return cacheDir.resolve(artifact.fileName());
    }

    /** Where an artifact's download is kept until it is complete and verified. */
    public Path partLocation(ModelZoo.Artifact artifact) {
        return cacheDir.resolve(artifact.fileName() + "." + artifact.sha256().substring(0, 12) + ".part");
    }

    /**
     * Returns the verified local file, downloading it first unless a file with the pinned digest is already
     * cached.
     *
     * @param progress told the number of bytes held so far (a continued download starts above 0)
     */
    public Path fetch(ModelZoo.Artifact artifact, LongConsumer progress) throws IOException {
        Path target = location(artifact);
        if (isVerified(target, artifact)) {
            return target;
        }
        Files.createDirectories(cacheDir);
        Path part = partLocation(artifact);
        for (int attempt = 1; ; attempt++) {
            try {
                download.into(source(artifact), part, artifact.size(), progress);
                break;
            } catch (ResumableDownload.BrokenOff e) {
                if (attempt == ATTEMPTS) {
                    throw new IOException(e.getMessage() + "; tried " + ATTEMPTS + " times. "
                            + (Files.exists(part) ? "The " + Files.size(part) + " bytes that arrived are kept in "
                            + part + ", and the next 'model fetch' continues from there" : "Nothing was kept"), e);
                }
            }
        }
        verifyOrDelete(part, artifact, source(artifact).toString());
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    /**
     * Writes the class list that labelstream ships (see {@link ModelZoo#IMAGENET_CLASSES}) into the cache folder,
     * verified like a download.
     */
    public Path installClassList(ModelZoo.Artifact classes) throws IOException {
        Path target = location(classes);
        if (isVerified(target, classes)) {
            return target;
        }
        Files.createDirectories(cacheDir);
        Path part = partLocation(classes);
        try (InputStream in = ZooFetcher.class.getResourceAsStream(ModelZoo.CLASS_LIST_RESOURCE)) {
            if (in == null) {
                throw new IOException("this build of labelstream lacks " + ModelZoo.CLASS_LIST_RESOURCE);
            }
            Files.copy(in, part, StandardCopyOption.REPLACE_EXISTING);
        }
        verifyOrDelete(part, classes, "labelstream's " + ModelZoo.CLASS_LIST_RESOURCE);
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        return target;
    }

    private static boolean isVerified(Path file, ModelZoo.Artifact artifact) throws IOException {
        return Files.isRegularFile(file) && Files.size(file) == artifact.size()
                && LoadedModel.sha256(file).equals(artifact.sha256());
    }

    private static void verifyOrDelete(Path part, ModelZoo.Artifact artifact, String from) throws IOException {
        long size = Files.size(part);
        String actual = LoadedModel.sha256(part);
        if (size != artifact.size() || !actual.equals(artifact.sha256())) {
            Files.delete(part);
            throw new IOException(artifact.fileName() + " from " + from + " does not match its pinned digest: got "
                    + (size > artifact.size() ? "more than " + artifact.size() : size) + " bytes with SHA-256 "
                    + actual + ", expected " + artifact.size() + " bytes with SHA-256 " + artifact.sha256()
                    + "; the download was deleted, nothing was kept");
        }
    }
}
