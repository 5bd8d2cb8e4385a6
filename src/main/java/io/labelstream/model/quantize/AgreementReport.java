package io.labelstream.model.quantize;

import io.labelstream.model.ImageOutcome;
import io.labelstream.model.LabelSet;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * What quantization cost on a set of images, against the fp32 model through the same preprocessing and
 * postprocessing: how often the top-1 class is the same, how far the probability of the fp32 model's top class
 * moved, and which fp32 classes changed most often.
 */
public record AgreementReport(String imagesName, int images, int agreeing, double meanAbsProbabilityDiff,
                              double maxAbsProbabilityDiff, List<ClassDisagreement> worstClasses) {

    /** Below this top-1 agreement the report warns. */
    public static final double WARN_BELOW = 0.98;

    /** One fp32 top-1 class: how many of its images the int8 model labeled otherwise. */
    public record ClassDisagreement(String label, int images, int disagreeing) {
    }

    /** Compares outcomes image by image; images either model could not label are left out of both. */
    public static AgreementReport compare(String imagesName, List<ImageOutcome> fp32, List<ImageOutcome> int8,
                                          LabelSet labels) {
        int images = 0;
        int agreeing = 0;
        double sumDiff = 0;
        double maxDiff = 0;
        Map<Integer, int[]> byClass = new TreeMap<>();
        for (int i = 0; i < fp32.size(); i++) {
            if (!(fp32.get(i) instanceof ImageOutcome.Labeled a) || !(int8.get(i) instanceof ImageOutcome.Labeled b)) {
                continue;
            }
            images++;
            int top = a.top().get(0).index();
            boolean same = top == b.top().get(0).index();
            agreeing += same ? 1 : 0;
            double diff = Math.abs(a.probabilities()[top] - b.probabilities()[top]);
            sumDiff += diff;
            maxDiff = Math.max(maxDiff, diff);
            int[] counts = byClass.computeIfAbsent(top, k -> new int[2]);
            counts[0]++;
            counts[1] += same ? 0 : 1;
        }
        List<ClassDisagreement> worst = new ArrayList<>();
        byClass.forEach((c, n) -> {
            if (n[1] > 0) {
                worst.add(new ClassDisagreement(labels.name(c), n[0], n[1]));
            }
        });
        worst.sort(Comparator.comparingInt(ClassDisagreement::disagreeing).reversed()
                .thenComparing(ClassDisagreement::label));
        return new AgreementReport(imagesName, images, agreeing, images == 0 ? 0 : sumDiff / images, maxDiff,
                List.copyOf(worst.subList(0, Math.min(5, worst.size()))));
    }

    public double agreement() {
        return images == 0 ? 0 : (double) agreeing / images;
    }

    public boolean belowWarningLevel() {
        return agreement() < WARN_BELOW;
    }

    /** The lines `model quantize` prints. */
    public List<String> lines() {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "%s: %d images, top-1 agreement with fp32 %d/%d (%.1f %%),"
                        + " |Δp| of the fp32 top class mean %.4f, max %.4f", imagesName, images, agreeing, images,
                100 * agreement(), meanAbsProbabilityDiff, maxAbsProbabilityDiff));
        if (!worstClasses.isEmpty()) {
            StringBuilder b = new StringBuilder("  classes that changed most (fp32 top class: changed/images): ");
            for (int i = 0; i < worstClasses.size(); i++) {
                ClassDisagreement d = worstClasses.get(i);
                b.append(i == 0 ? "" : ", ").append(d.label()).append(' ').append(d.disagreeing()).append('/')
                        .append(d.images());
            }
            lines.add(b.toString());
        }
        if (belowWarningLevel()) {
            lines.add(String.format(Locale.ROOT, "  WARNING: top-1 agreement %.1f %% is below %.0f %%: check the"
                            + " model on a labeled folder before using it (labelstream classify), try --method"
                            + " percentile or entropy, more calibration images, or --exclude the layers at fault",
                    100 * agreement(), 100 * WARN_BELOW));
        }
        return lines;
    }
}
