package io.labelstream.bench;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The cost table of {@code bench pipeline}: per configuration and round, the bare ONNX Runtime loop's CPU per
 * image beside {@code labelstream run}'s ({@link CostRun}), their ratio taken within the round, where the run's CPU
 * went, and what an idle instance costs per second.
 */
final class CostTable {

    private record Row(String config, int round, ThroughputLoops.Measured bare, CostRun.Backlog run) {
    }

    /** The same backlog run again with a side model: {@code withSide}, beside {@code row}'s run without one. */
    private record SideRow(Row row, CostRun.Backlog withSide) {

        double addedMsPerImage() {
            return withSide.cpuMsPerImage() - row.run().cpuMsPerImage();
        }
    }

    private final List<Row> rows = new ArrayList<>();
    private final List<SideRow> sideRows = new ArrayList<>();
    private final List<CostRun.Idle> idles = new ArrayList<>();

    void add(String config, int round, ThroughputLoops.Measured bare, CostRun.Backlog run) {
        rows.add(new Row(config, round, bare, run));
    }

    /** {@code withSide}: the run of {@link #add}'s same round and configuration, with a side model added. */
    void addSide(String config, int round, ThroughputLoops.Measured bare, CostRun.Backlog run,
                 CostRun.Backlog withSide) {
        sideRows.add(new SideRow(new Row(config, round, bare, run), withSide));
    }

    void addIdle(CostRun.Idle idle) {
        idles.add(idle);
    }

    boolean isEmpty() {
        return rows.isEmpty() && sideRows.isEmpty() && idles.isEmpty();
    }

    void print(PrintStream out, List<String> runJvm) {
        if (!rows.isEmpty()) {
            out.printf("%nCost per labeled image: `labelstream run` in its own JVM (%s) over a pre-loaded backlog, its "
                    + "process CPU time over the backlog's last two thirds (start-up and the JIT's first pass "
                    + "left out) ÷ the images labeled then; bare = the ONNX Runtime loop above (one session, all its "
                    + "intra-op threads), on a sixth of the backlog's images right before and right after the run, "
                    + "process CPU ÷ images. Outside inference = the run's threads other than those running ONNX "
                    + "Runtime, per image; bare ÷ (bare + outside) = the ratio if the run's inference cost what the "
                    + "bare loop's did. Median (min–max) over rounds; ratios per round.%n",
                    String.join(" ", runJvm));
            out.printf("  %-26s %-22s %-22s %-20s %-20s %-22s %-20s%n", "configuration", "bare CPU ms/image",
                    "run CPU ms/image", "bare ÷ run", "run images/s", "outside inference ms", "bare ÷ (bare+outside)");
            for (var e : byConfig().entrySet()) {
                List<Row> r = e.getValue();
                out.printf(Locale.ROOT, "  %-26s %-22s %-22s %-20s %-20s %-22s %-20s%n", e.getKey(),
                        samples(r, x -> x.bare().cpuMsPerImage()).format(""),
                        samples(r, x -> x.run().cpuMsPerImage()).format(""),
                        format(samples(r, x -> x.bare().cpuMsPerImage() / x.run().cpuMsPerImage()), 3),
                        samples(r, x -> x.run().imagesPerSecond()).format(""),
                        format(samples(r, x -> x.run().outsideInferenceMsPerImage()), 2),
                        format(samples(r, CostTable::bareOverBarePlusOutside), 3));
            }
            out.printf("%nWhere `labelstream run`'s CPU went, µs per image (threads by name; median over rounds):%n");
            StringBuilder header = new StringBuilder(String.format("  %-26s", "configuration"));
            for (String g : ProcessCpu.GROUPS) {
                header.append(String.format(" %-20s", g.replaceAll(" \\(.*", "")));
            }
            out.println(header.append(" exited threads"));
            for (var e : byConfig().entrySet()) {
                StringBuilder line = new StringBuilder(String.format("  %-26s", e.getKey()));
                for (String g : ProcessCpu.GROUPS) {
                    line.append(String.format(Locale.ROOT, " %-20.0f", samples(e.getValue(),
                            x -> x.run().groupUsPerImage(g)).median()));
                }
                line.append(String.format(Locale.ROOT, " %.0f", samples(e.getValue(), x -> Math.max(0,
                        (x.run().cpu().totalNanos() - x.run().cpu().threadNanos()) / 1e3 / x.run().images())).median()));
                out.println(line);
            }
            out.println("  (inference = labelstream's batch threads, which call ONNX Runtime, and its pool; preprocess = "
                    + "the threads that decode and resize a batch's images in parallel; the process "
                    + "total is counted in 10 ms ticks, the threads in ns, so the last column is only roughly "
                    + "threads that ended)");
            printKafka(out);
        }
        printSide(out);
        if (!idles.isEmpty()) {
            CostRun.Idle first = idles.get(0);
            out.printf(Locale.ROOT, "%nIdle: `labelstream run` with an empty input topic, %.0f s measured after it was "
                    + "ready and had idled as long (at least 5 s); CPU ms per second, median (min–max) over %d "
                    + "run(s):%n", first.seconds(), idles.size());
            out.printf(Locale.ROOT, "  labelstream run: %s (target ≤ 10: %s)%n",
                    Samples.of(idles.stream().map(i -> i.msPerSecond(i.labelstream())).toList()).format(""),
                    Samples.of(idles.stream().map(i -> i.msPerSecond(i.labelstream())).toList()).median() <= 10
                            ? "met" : "missed");
            StringBuilder groups = new StringBuilder("  by thread:");
            for (String g : ProcessCpu.GROUPS) {
                groups.append(String.format(Locale.ROOT, " %s %.1f;", g.replaceAll(" \\(.*", ""), Samples.of(
                        idles.stream().map(i -> i.groupMsPerSecond(g)).toList()).median()));
            }
            out.println(groups);
            if (first.broker() != null) {
                out.printf(Locale.ROOT, "  the idle broker beside it (its own JVM, not counted above): %s%n",
                        Samples.of(idles.stream().map(i -> i.msPerSecond(i.broker())).toList()).format(""));
            }
        }
    }

    /**
     * What the stream thread and the Kafka clients did for those images, from the run's own Kafka counters over the
     * same window: the commit cadence (transactions per second, the images each one carried, the time spent
     * committing) and the bytes written and read per image, of which the batch buffer's changelog is the part a
     * bare loop never pays.
     */
    private void printKafka(PrintStream out) {
        if (rows.stream().allMatch(r -> r.run().kafka().isEmpty())) {
            out.println("  (no Kafka counters: the run's /metrics could not be read)");
            return;
        }
        out.printf("%nWhat `labelstream run` asked of Kafka over the same window, from its Kafka client and Streams "
                + "counters (/metrics); median over rounds:%n");
        out.printf("  %-26s %-12s %-15s %-18s %-21s %-18s %-17s%n", "configuration", "commits/s",
                "images/commit", "commit wall ms/s", "store records/image", "sent KiB/image", "fetched KiB/image");
        for (var e : byConfig().entrySet()) {
            List<Row> r = e.getValue();
            out.printf(Locale.ROOT, "  %-26s %-12.1f %-15.1f %-18.1f %-21.2f %-18.1f %-17.1f%n", e.getKey(),
                    samples(r, x -> x.run().kafka().commits() / x.run().seconds()).median(),
                    samples(r, x -> x.run().kafka().imagesPerCommit()).median(),
                    samples(r, x -> x.run().kafka().commitWallNanos() / 1e6 / x.run().seconds()).median(),
                    samples(r, x -> x.run().kafka().storeRecordsPerImage()).median(),
                    samples(r, x -> x.run().kafka().sentKiBPerImage()).median(),
                    samples(r, x -> x.run().kafka().fetchedKiBPerImage()).median());
        }
        out.println("  (per image = per labels or failures record; commit wall time = the producers' time in "
                + "commitTransaction, mostly waiting for the broker; store records = records produced beyond the "
                + "outputs: the batch buffer's changelog, image bytes and tombstones, and with rules or dedup on, "
                + "flagged records and the dedup cache's changelog; sent = all that the producers sent)");
    }

    /**
     * What a side model adds: the same backlog with and without it, in the same round; against the bare loop's
     * CPU per image, which is what its inference alone costs (it is a second session of the same model). A ratio
     * near 1 means nothing else is paid again: the image is decoded and preprocessed once.
     */
    private void printSide(PrintStream out) {
        if (sideRows.isEmpty()) {
            return;
        }
        out.printf("%nA side model (--side-model: models.extra=side, a second session of the same model, sharing the "
                + "primary's recipe and tensor): the same backlog with and without it, CPU ms per image as above; "
                + "median (min–max) over rounds, differences and ratios per round:%n");
        out.printf("  %-26s %-22s %-22s %-22s %-26s %-20s%n", "configuration", "run CPU ms/image",
                "run + side", "side adds", "side adds ÷ bare", "run + side images/s");
        Map<String, List<SideRow>> byConfig = new LinkedHashMap<>();
        sideRows.forEach(r -> byConfig.computeIfAbsent(r.row().config(), k -> new ArrayList<>()).add(r));
        for (var e : byConfig.entrySet()) {
            List<SideRow> r = e.getValue();
            out.printf(Locale.ROOT, "  %-26s %-22s %-22s %-22s %-26s %-20s%n", e.getKey(),
                    sideSamples(r, x -> x.row().run().cpuMsPerImage()).format(""),
                    sideSamples(r, x -> x.withSide().cpuMsPerImage()).format(""),
                    sideSamples(r, SideRow::addedMsPerImage).format(""),
                    format(sideSamples(r, x -> x.addedMsPerImage() / x.row().bare().cpuMsPerImage()), 3),
                    sideSamples(r, x -> x.withSide().imagesPerSecond()).format(""));
        }
    }

    private static Samples sideSamples(List<SideRow> rows, java.util.function.ToDoubleFunction<SideRow> f) {
        return new Samples(rows.stream().mapToDouble(f).toArray());
    }

    void writeCsv(Path file) throws IOException {
        List<String> lines = new ArrayList<>(List.of("configuration,round,bare_cpu_ms_per_image,run_cpu_ms_per_image,"
                + "bare_over_run,run_images_per_second,outside_inference_ms_per_image,bare_over_bare_plus_outside,"
                + String.join(",", groupColumns()) + ",commits_per_second,store_records_per_image,"
                + "sent_bytes_per_image,fetched_bytes_per_image"));
        for (Row r : rows) {
            StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%s,%d,%.3f,%.3f,%.4f,%.3f,%.3f,%.4f",
                    r.config(), r.round(), r.bare().cpuMsPerImage(), r.run().cpuMsPerImage(),
                    r.bare().cpuMsPerImage() / r.run().cpuMsPerImage(), r.run().imagesPerSecond(),
                    r.run().outsideInferenceMsPerImage(), bareOverBarePlusOutside(r)));
            for (String g : ProcessCpu.GROUPS) {
                line.append(String.format(Locale.ROOT, ",%.1f", r.run().groupUsPerImage(g)));
            }
            KafkaWork k = r.run().kafka();
            line.append(String.format(Locale.ROOT, ",%.2f,%.3f,%.0f,%.0f", k.commits() / r.run().seconds(),
                    k.storeRecordsPerImage(), k.sentKiBPerImage() * 1024, k.fetchedKiBPerImage() * 1024));
            lines.add(line.toString());
        }
        for (SideRow r : sideRows) {
            lines.add(String.format(Locale.ROOT, "%s +side,%d,%.3f,%.3f,%.4f,%.3f", r.row().config(), r.row().round(),
                    r.row().bare().cpuMsPerImage(), r.withSide().cpuMsPerImage(),
                    r.row().bare().cpuMsPerImage() / r.withSide().cpuMsPerImage(), r.withSide().imagesPerSecond()));
        }
        for (CostRun.Idle i : idles) {
            lines.add(String.format(Locale.ROOT, "idle,,,,,,,,total_ms_per_s=%.2f%s", i.msPerSecond(i.labelstream()),
                    i.broker() == null ? "" : String.format(Locale.ROOT, " broker_ms_per_s=%.2f",
                            i.msPerSecond(i.broker()))));
        }
        Files.write(file, lines);
    }

    private static List<String> groupColumns() {
        List<String> columns = new ArrayList<>();
        for (String g : ProcessCpu.GROUPS) {
            columns.add("us_per_image_" + g.replaceAll(" \\(.*", "").replace(' ', '_'));
        }
        return columns;
    }

    private Map<String, List<Row>> byConfig() {
        Map<String, List<Row>> m = new LinkedHashMap<>();
        rows.forEach(r -> m.computeIfAbsent(r.config(), k -> new ArrayList<>()).add(r));
        return m;
    }

    private static Samples samples(List<Row> rows, java.util.function.ToDoubleFunction<Row> f) {
        return new Samples(rows.stream().mapToDouble(f).toArray());
    }

    private static double bareOverBarePlusOutside(Row r) {
        double bare = r.bare().cpuMsPerImage();
        return bare / (bare + r.run().outsideInferenceMsPerImage());
    }

    /** Median (min–max), each with {@code decimals} decimals. */
    private static String format(Samples s, int decimals) {
        String f = "%." + decimals + "f";
        return String.format(Locale.ROOT, f + " (" + f + "–" + f + ")", s.median(), s.min(), s.max());
    }
}
