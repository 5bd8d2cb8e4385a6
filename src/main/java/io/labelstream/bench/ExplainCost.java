package io.labelstream.bench;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What class activation maps cost a {@code labelstream run}: the cost run's backlog again with {@code explain.top}
 * = N for each N asked, against the same run with maps off, as CPU per image. The model's session then puts out
 * its feature map too, each image keeps a copy, and N maps are made per image (k dot products over the channels).
 */
final class ExplainCost {

    private final List<Integer> tops;
    /** Per configuration and explain.top: each round's CPU ms per image with maps off, then on. */
    private final Map<String, Map<Integer, List<double[]>>> rounds = new LinkedHashMap<>();

    ExplainCost(List<Integer> tops) {
        this.tops = List.copyOf(tops);
    }

    boolean wanted() {
        return !tops.isEmpty();
    }

    /** Runs the backlog once per explain.top asked and prints what each adds to {@code off}, the run without maps. */
    void measure(PipelineRuns runs, String name, Path model, List<byte[]> jpegs, int batch, int images,
                 String config, int round, CostRun.Backlog off, PrintStream out) throws Exception {
        for (int top : tops) {
            // model.top.k must hold the explained labels: at least its default 5.
            CostRun.Backlog on = CostRun.backlog(runs, name + "-explain" + top, model, jpegs, batch, images, Map.of(
                    "explain.top", Integer.toString(top), "model.top.k", Integer.toString(Math.max(5, top))));
            rounds.computeIfAbsent(config, k -> new LinkedHashMap<>()).computeIfAbsent(top, k -> new ArrayList<>())
                    .add(new double[] {off.cpuMsPerImage(), on.cpuMsPerImage()});
            out.printf(Locale.ROOT, "  round %d %-26s labelstream run with explain.top=%d %.1f img/s, CPU ms per image"
                            + " %.2f against %.2f off: %+.1f %%%n", round, config, top, on.imagesPerSecond(),
                    on.cpuMsPerImage(), off.cpuMsPerImage(), percent(off.cpuMsPerImage(), on.cpuMsPerImage()));
        }
    }

    /** Medians over the rounds of CPU per image, off and on, and the difference. */
    void print(PrintStream out) {
        if (rounds.isEmpty()) {
            return;
        }
        out.println();
        out.println("Class activation maps (CPU ms per image of labelstream run, medians over rounds):");
        out.printf(Locale.ROOT, "  %-26s %-12s %9s %9s %9s%n", "configuration", "explain.top", "off", "on", "added");
        rounds.forEach((config, byTop) -> byTop.forEach((top, measured) -> {
            double off = Percentiles.of(measured.stream().mapToDouble(m -> m[0]).toArray()).at(50);
            double on = Percentiles.of(measured.stream().mapToDouble(m -> m[1]).toArray()).at(50);
            out.printf(Locale.ROOT, "  %-26s %-12d %9.2f %9.2f %+8.1f%%%n", config, top, off, on, percent(off, on));
        }));
    }

    private static double percent(double off, double on) {
        return (on - off) / off * 100;
    }
}
