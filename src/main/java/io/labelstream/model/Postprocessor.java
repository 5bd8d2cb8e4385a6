package io.labelstream.model;

import java.util.ArrayList;
import java.util.List;

/**
 * The last part of labeling a batch: one image's raw output to probabilities, then its top k, named, with the
 * image's feature map when the model puts it out (each class's map is made from it only when a record needs it).
 */
final class Postprocessor {

    private final LabelSet labels;
    private final int classes;
    private final int topK;
    private final Scores.OutputKind outputKind;

    Postprocessor(LabelSet labels, int classes, int topK, Scores.OutputKind outputKind) {
        this.labels = labels;
        this.classes = classes;
        this.topK = Math.min(topK, classes);
        this.outputKind = outputKind;
    }

    /** @param maps the image's feature map, or null when its model puts none out */
    ImageOutcome.Labeled labeled(float[] raw, int slot, ImageMaps maps) {
        float[] probabilities = Scores.probabilities(raw, slot * classes, classes, outputKind);
        int[] best = Scores.topK(probabilities, topK);
        List<ClassScore> top = new ArrayList<>(best.length);
        for (int index : best) {
            top.add(new ClassScore(index, labels.name(index), probabilities[index]));
        }
        return new ImageOutcome.Labeled(top, probabilities, maps);
    }
}
