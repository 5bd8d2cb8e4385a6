package io.labelstream.bench;

import java.nio.file.Path;
import java.util.List;

/**
 * Another library's image classifier, measured beside labelstream's engine on the same files, model, batch size
 * and threads. Implementations are bench-only: they are built into a separate jar by the {@code bench} Maven
 * profile and found with {@link java.util.ServiceLoader}, so none of them is ever on the runtime path.
 */
public interface PeerEngine extends AutoCloseable {

    /** Library, version and how it was set up, as printed under the table. */
    String description();

    /**
     * Decodes, preprocesses with the ImageNet recipe (resize shorter side to 256, centre crop 224, torchvision
     * mean/std) and classifies one batch of encoded images in one inference call.
     *
     * @return the top-1 class index of each image, in input order
     */
    int[] classify(List<byte[]> images) throws Exception;

    @Override
    void close();

    /** Registered in {@code META-INF/services/io.labelstream.bench.PeerEngine$Provider}. */
    interface Provider {

        /** Short name for the table's column, e.g. "djl". */
        String name();

        /**
         * Prepares the library. Called before anything else in the process creates ONNX Runtime's environment,
         * because some peers create it themselves with their own options.
         */
        void initialize() throws Exception;

        /** @param threads ONNX Runtime intra-op threads, the same number the engine and the bare loop use */
        PeerEngine open(Path model, int threads) throws Exception;
    }
}
