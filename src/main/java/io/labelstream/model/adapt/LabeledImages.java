package io.labelstream.model.adapt;

import io.labelstream.image.ImageFiles;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A folder with one sub-folder per class, the folder's name being the label: the layout of torchvision's
 * {@code ImageFolder} and Keras' {@code image_dataset_from_directory}. Classes come sorted by name, images by path.
 *
 * @param labels the class names, index order
 * @param files  each image file
 * @param truth  each file's class index
 */
public record LabeledImages(Path dir, List<String> labels, List<Path> files, int[] truth) {

    /** Reads {@code dir}; with {@code knownLabels} (the classes a head was trained on) every folder must be one. */
    public static LabeledImages read(Path dir, List<String> knownLabels, String option) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IllegalArgumentException(option + ": not a folder: " + dir);
        }
        List<Path> folders;
        try (Stream<Path> list = Files.list(dir)) {
            folders = list.filter(Files::isDirectory).filter(p -> !p.getFileName().toString().startsWith("."))
                    .sorted().toList();
        }
        if (folders.isEmpty()) {
            throw new IllegalArgumentException(option + ": " + dir + " has no sub-folders; it must hold one folder"
                    + " per class, named as the label (e.g. " + dir.resolve("cat") + "/1.jpg)");
        }
        List<String> labels = knownLabels != null ? knownLabels
                : folders.stream().map(p -> p.getFileName().toString()).toList();
        List<Path> files = new ArrayList<>();
        List<Integer> truth = new ArrayList<>();
        for (Path folder : folders) {
            String label = folder.getFileName().toString();
            int index = labels.indexOf(label);
            if (index < 0) {
                throw new IllegalArgumentException(option + ": folder '" + label + "' is not one of the classes the"
                        + " head was trained on " + labels);
            }
            if (label.isBlank() || !label.strip().equals(label)) {
                throw new IllegalArgumentException(option + ": folder name '" + label + "' cannot be a label (blank"
                        + " or with leading or trailing spaces)");
            }
            List<Path> images = ImageFiles.expand(List.of(folder));
            if (images.isEmpty()) {
                throw new IllegalArgumentException(option + ": class folder " + folder + " has no image files");
            }
            for (Path p : images) {
                files.add(p);
                truth.add(index);
            }
        }
        if (knownLabels == null && labels.size() < 2) {
            throw new IllegalArgumentException(option + ": " + dir + " has one class folder (" + labels.get(0)
                    + "); a classifier needs at least two");
        }
        return new LabeledImages(dir, List.copyOf(labels), List.copyOf(files),
                truth.stream().mapToInt(Integer::intValue).toArray());
    }
}
