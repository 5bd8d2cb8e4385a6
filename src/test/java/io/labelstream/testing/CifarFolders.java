package io.labelstream.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** The CIFAR-10 fixture images as class folders: files numbered 1–5 to train on, the other 50 to test on. */
public final class CifarFolders {

    private CifarFolders() {
    }

    /** Makes {@code dir}/train/CLASS/N.png and {@code dir}/test/CLASS/N.png; returns {@code dir}. */
    public static Path make(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(Fixtures.dir().resolve("images/cifar10"))) {
            for (Path f : files.filter(p -> p.toString().endsWith(".png")).toList()) {
                String name = f.getFileName().toString();
                String label = name.replaceAll("\\d+\\.png$", "");
                int number = Integer.parseInt(name.substring(label.length(), name.length() - 4));
                Path target = dir.resolve(number <= 5 ? "train" : "test").resolve(label).resolve(number + ".png");
                Files.createDirectories(target.getParent());
                Files.copy(f, target);
            }
        }
        return dir;
    }
}
