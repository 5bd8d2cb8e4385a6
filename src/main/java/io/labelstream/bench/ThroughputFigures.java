package io.labelstream.bench;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Every throughput figure the side-by-side rounds measured, and what is made of them: the table of medians and
 * per-round ratios, int8 beside fp32, the CSV rows and the chart's points.
 */
final class ThroughputFigures {

    /** Measured in one round: images per second of one series for one configuration. */
    record Figure(String model, String size, int batch, String series, int round, double imagesPerSecond) {
    }

    private final List<Figure> figures = new ArrayList<>();
    private final List<Double> startupSeconds = new ArrayList<>();
    private final Map<String, List<Double>> meanBatches = new LinkedHashMap<>();
    private final List<String> peerDescriptions = new ArrayList<>();

    void add(String model, String size, int batch, String series, int round, double value) {
        figures.add(new Figure(model, size, batch, series, round, value));
    }

    /** What a pipeline run showed beside its throughput: its start-up, and how full its batches were. */
    void pipelineRun(String model, String size, int batch, double startup, double meanBatch) {
        startupSeconds.add(startup);
        meanBatches.computeIfAbsent(model + " " + size + " b" + batch, k -> new ArrayList<>()).add(meanBatch);
    }

    void peer(String description) {
        if (!peerDescriptions.contains(description)) {
            peerDescriptions.add(description);
        }
    }

    Samples samples(String model, String size, int batch, String series) {
        return Samples.of(figures.stream().filter(f -> f.model().equals(model) && f.size().equals(size)
                && f.batch() == batch && f.series().equals(series)).map(Figure::imagesPerSecond).toList());
    }

    /** The ceiling of {@code model} at {@code batch} over every round and image size: it runs on pre-made tensors. */
    Samples ceiling(String model, int batch) {
        return Samples.of(figures.stream().filter(f -> f.model().equals(model) && f.batch() == batch
                && f.series().equals("ceiling")).map(Figure::imagesPerSecond).toList());
    }

    /** Median over rounds of (series ÷ baseline) within each round. */
    double ratio(String model, String size, int batch, String series, String baseline) {
        List<Double> ratios = new ArrayList<>();
        for (Figure mine : figures) {
            if (!mine.model().equals(model) || !mine.size().equals(size) || mine.batch() != batch
                    || !mine.series().equals(series)) {
                continue;
            }
            figures.stream().filter(f -> f.round() == mine.round() && f.model().equals(model) && f.size().equals(size)
                            && f.batch() == batch && f.series().equals(baseline)).findFirst()
                    .ifPresent(base -> ratios.add(mine.imagesPerSecond() / base.imagesPerSecond()));
        }
        return Samples.of(ratios).median();
    }

    /** Model, size and batch of every measured configuration, in measuring order. */
    private List<String[]> configurations() {
        List<String[]> keys = new ArrayList<>();
        for (Figure f : figures) {
            if (f.round() == 1 && f.series().equals("ceiling")) {
                keys.add(new String[] {f.model(), f.size(), Integer.toString(f.batch())});
            }
        }
        return keys;
    }

    private List<String> seriesNames() {
        return figures.stream().map(Figure::series).distinct().toList();
    }

    /** The table of medians and ratios, engine ÷ each peer, int8 ÷ fp32 and the start-up times. */
    void print(PrintStream out, int rounds, List<String> peers, List<BenchModel> models) {
        List<String> series = new ArrayList<>(List.of("engine"));
        series.addAll(peers);
        series.add("pipeline");
        series.add("pipeline incl. start-up");
        out.printf("%nThroughput, images per second: median (min–max) over %d round(s); ratio = median of each round's"
                + " figure ÷ that round's ceiling%n", rounds);
        StringBuilder header = new StringBuilder(String.format("  %-9s %-8s %-5s %-22s", "model", "images", "batch",
                "ceiling (bare ORT)"));
        for (String s : series) {
            header.append(String.format(" %-30s", s));
        }
        out.println(header.append("  mean batch"));
        for (String[] key : configurations()) {
            String model = key[0];
            String size = key[1];
            int batch = Integer.parseInt(key[2]);
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "  %-9s %-8s %-5d %-22s", model, size,
                    batch, samples(model, size, batch, "ceiling").format("")));
            for (String s : series) {
                Samples value = samples(model, size, batch, s);
                line.append(String.format(Locale.ROOT, " %-30s", value.values().length == 0 ? "—"
                        : value.format("") + " ×" + String.format(Locale.ROOT, "%.3f", ratio(model, size, batch, s,
                        "ceiling"))));
            }
            List<Double> fills = meanBatches.getOrDefault(model + " " + size + " b" + batch, List.of());
            out.println(line.append(String.format(Locale.ROOT, "  %.1f", Samples.of(fills).median())));
        }
        for (String peer : peers) {
            out.printf("%nEngine ÷ %s (same files, model, batch, threads and ONNX Runtime), median of per-round "
                    + "ratios:%n", peer);
            for (String[] key : configurations()) {
                out.printf(Locale.ROOT, "  %-9s %-8s batch %-3s  %.2f%n", key[0], key[1], key[2],
                        ratio(key[0], key[1], Integer.parseInt(key[2]), "engine", peer));
            }
        }
        peerDescriptions.forEach(d -> out.println("  peer: " + d));
        printInt8BesideFp32(out, models);
        var startup = startupSeconds.stream().mapToDouble(Double::doubleValue).summaryStatistics();
        out.printf(Locale.ROOT, "Start-up (Pipeline.start to RUNNING) took %.1f–%.1f s per run; \"pipeline\" counts from "
                + "RUNNING, \"pipeline incl. start-up\" from Pipeline.start%n", startup.getMin(), startup.getMax());
    }

    /**
     * For each model measured both as fp32 and as int8: the ratio of their medians. Their rounds ran one model
     * after the other in this process, not interleaved; each round's pipeline ÷ ceiling above is the
     * interleaved figure.
     */
    private void printInt8BesideFp32(PrintStream out, List<BenchModel> models) {
        boolean header = false;
        for (BenchModel m : models) {
            if (!m.int8() || !models.contains(m.fp32())) {
                continue;
            }
            if (!header) {
                out.printf("%nint8 ÷ fp32, ratio of medians (same run, the two models measured one after the other):%n");
                header = true;
            }
            for (String[] key : configurations()) {
                if (!key[0].equals(m.name())) {
                    continue;
                }
                int batch = Integer.parseInt(key[2]);
                String fp32 = m.fp32().name();
                out.printf(Locale.ROOT, "  %-9s %-8s batch %-3d  ceiling ×%.2f  engine ×%.2f  pipeline ×%.2f%n", fp32,
                        key[1], batch, int8OverFp32(m.name(), fp32, key[1], batch, "ceiling"),
                        int8OverFp32(m.name(), fp32, key[1], batch, "engine"),
                        int8OverFp32(m.name(), fp32, key[1], batch, "pipeline"));
            }
        }
    }

    private double int8OverFp32(String int8, String fp32, String size, int batch, String series) {
        return samples(int8, size, batch, series).median() / samples(fp32, size, batch, series).median();
    }

    /** bench-throughput.csv: every figure of every round. */
    List<String> throughputCsv() {
        List<String> rows = new ArrayList<>(List.of("model,images,batch,series,round,images_per_second"));
        for (Figure f : figures) {
            rows.add(String.format(Locale.ROOT, "%s,%s,%d,%s,%d,%.3f", f.model(), f.size(), f.batch(), f.series(),
                    f.round(), f.imagesPerSecond()));
        }
        return rows;
    }

    /** bench-summary.csv's throughput rows: median, range and ratio to the ceiling per configuration and series. */
    List<String> summaryCsv() {
        List<String> summary = new ArrayList<>(List.of("model,images,batch,series,median_images_per_second,min,max,"
                + "ratio_to_ceiling"));
        for (String[] key : configurations()) {
            for (String series : seriesNames()) {
                Samples s = samples(key[0], key[1], Integer.parseInt(key[2]), series);
                if (s.values().length > 0) {
                    summary.add(String.format(Locale.ROOT, "%s,%s,%s,%s,%.2f,%.2f,%.2f,%.4f", key[0], key[1], key[2],
                            series, s.median(), s.min(), s.max(), ratio(key[0], key[1], Integer.parseInt(key[2]),
                                    series, "ceiling")));
                }
            }
        }
        return summary;
    }

    List<BenchChart.Point> chartPoints() {
        List<BenchChart.Point> points = new ArrayList<>();
        for (String[] key : configurations()) {
            for (String series : seriesNames()) {
                Samples s = samples(key[0], key[1], Integer.parseInt(key[2]), series);
                if (s.values().length > 0 && !series.equals("pipeline incl. start-up")) {
                    points.add(new BenchChart.Point(key[0], key[1], series, Integer.parseInt(key[2]), s.median()));
                }
            }
        }
        return points;
    }
}
