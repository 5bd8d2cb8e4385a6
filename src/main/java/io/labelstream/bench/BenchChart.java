package io.labelstream.bench;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberTick;
import org.jfree.chart.axis.Tick;
import org.jfree.chart.axis.TickType;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.labels.StandardCategoryItemLabelGenerator;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleEdge;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.Range;
import org.jfree.data.category.DefaultCategoryDataset;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.DecimalFormat;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;

/** Benchmark results as one PNG: throughput by batch size per model and image size, then latency distributions. */
public final class BenchChart {

    /** One throughput figure: series is "ceiling", "engine", "pipeline" or a peer's name. */
    public record Point(String model, String imageSize, String series, int batchSize, double imagesPerSecond) {
    }

    /** End-to-end latencies (ms) observed at one load level, e.g. label "resnet50 640×480 at 50 %". */
    public record Latencies(String label, double[] millis) {
    }

    private static final int WIDTH = 1600;
    private static final int TITLE_HEIGHT = 60;
    private static final int PANEL_HEIGHT = 460;
    private static final int LATENCY_HEIGHT = 560;
    /** More points than this per curve only cost file size; the eye cannot separate them at 1600 px. */
    private static final int MAX_CDF_POINTS = 800;
    /** Fastest-to-slowest ratio above which the latency axis turns logarithmic. */
    private static final double LOG_AXIS_SPREAD = 5;
    /** Colour-blind-safe (Okabe–Ito), so a series keeps one colour in every panel. */
    private static final Color[] PALETTE = {new Color(0x0072B2), new Color(0xE69F00), new Color(0x009E73),
            new Color(0xCC79A7), new Color(0x56B4E9), new Color(0xD55E00), new Color(0xF0E442), Color.DARK_GRAY};

    private BenchChart() {
    }

    /**
     * Writes one PNG: a throughput-by-batch-size panel per (model, imageSize) with one bar group per series, and a
     * latency-distribution panel (CDF per load level). Headless-safe.
     */
    public static void write(Path png, String title, List<Point> points, List<Latencies> latencies)
            throws IOException {
        // Must be decided before AWT first initializes; benchmark hosts have no display.
        if (System.getProperty("java.awt.headless") == null) {
            System.setProperty("java.awt.headless", "true");
        }
        List<String> seriesOrder = points.stream().map(Point::series).distinct().toList();
        List<JFreeChart> throughput = throughputCharts(points, seriesOrder);
        List<Latencies> nonEmpty = latencies.stream().filter(l -> l.millis().length > 0).toList();

        int columns = throughput.size() > 1 ? 2 : 1;
        int rows = (throughput.size() + columns - 1) / columns;
        int height = TITLE_HEIGHT + rows * PANEL_HEIGHT + (nonEmpty.isEmpty() ? 0 : LATENCY_HEIGHT);
        if (throughput.isEmpty() && nonEmpty.isEmpty()) {
            height += PANEL_HEIGHT / 4;
        }
        BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, height);
            g.setColor(Color.BLACK);
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 24));
            g.drawString(title, 20, 40);
            if (throughput.isEmpty() && nonEmpty.isEmpty()) {
                g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 18));
                g.drawString("No results.", 20, TITLE_HEIGHT + 40);
            }
            int panelWidth = WIDTH / columns;
            for (int i = 0; i < throughput.size(); i++) {
                throughput.get(i).draw(g, new Rectangle2D.Double((i % columns) * panelWidth,
                        TITLE_HEIGHT + (i / columns) * PANEL_HEIGHT, panelWidth, PANEL_HEIGHT));
            }
            if (!nonEmpty.isEmpty()) {
                latencyChart(nonEmpty).draw(g, new Rectangle2D.Double(0, TITLE_HEIGHT + rows * PANEL_HEIGHT, WIDTH,
                        LATENCY_HEIGHT));
            }
        } finally {
            g.dispose();
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(image, "png", png.toFile())) {
            throw new IOException("No PNG writer in this JDK");
        }
    }

    private static List<JFreeChart> throughputCharts(List<Point> points, List<String> seriesOrder) {
        Map<List<String>, List<Point>> panels = new LinkedHashMap<>();
        for (Point p : points) {
            panels.computeIfAbsent(List.of(p.model(), p.imageSize()), k -> new ArrayList<>()).add(p);
        }
        List<JFreeChart> charts = new ArrayList<>();
        panels.forEach((key, panelPoints) -> charts.add(throughputChart(key.get(0), key.get(1), panelPoints,
                seriesOrder)));
        return charts;
    }

    private static JFreeChart throughputChart(String model, String imageSize, List<Point> points,
                                              List<String> seriesOrder) {
        // Rows and columns are inserted in display order: series as first seen, batch sizes ascending.
        List<String> series = seriesOrder.stream()
                .filter(s -> points.stream().anyMatch(p -> p.series().equals(s))).toList();
        TreeSet<Integer> batchSizes = new TreeSet<>();
        points.forEach(p -> batchSizes.add(p.batchSize()));
        DefaultCategoryDataset dataset = new DefaultCategoryDataset();
        for (int batch : batchSizes) {
            for (String s : series) {
                Double value = points.stream().filter(p -> p.series().equals(s) && p.batchSize() == batch)
                        .map(Point::imagesPerSecond).reduce((first, later) -> later).orElse(null);
                dataset.addValue(value, s, Integer.valueOf(batch));
            }
        }
        JFreeChart chart = ChartFactory.createBarChart(model + " · " + imageSize, "batch size", "images per second",
                dataset, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        style(chart);
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.05);
        renderer.setDefaultItemLabelGenerator(new StandardCategoryItemLabelGenerator("{2}",
                new DecimalFormat("0.0")));
        renderer.setDefaultItemLabelFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        renderer.setDefaultItemLabelsVisible(true);
        for (int row = 0; row < series.size(); row++) {
            renderer.setSeriesPaint(row, PALETTE[seriesOrder.indexOf(series.get(row)) % PALETTE.length]);
        }
        // Room above the tallest bar for its label.
        ((NumberAxis) plot.getRangeAxis()).setUpperMargin(0.12);
        return chart;
    }

    private static JFreeChart latencyChart(List<Latencies> latencies) {
        XYSeriesCollection dataset = new XYSeriesCollection();
        double min = Double.POSITIVE_INFINITY;
        double max = 0;
        // XYSeriesCollection rejects a repeated key, and a repeated label still deserves its own curve.
        Map<String, Integer> seen = new HashMap<>();
        for (Latencies l : latencies) {
            String label = Objects.requireNonNullElse(l.label(), "");
            int copy = seen.merge(label, 1, Integer::sum);
            double[] sorted = l.millis().clone();
            Arrays.sort(sorted);
            min = Math.min(min, sorted[0]);
            max = Math.max(max, sorted[sorted.length - 1]);
            dataset.addSeries(cdf(copy == 1 ? label : label + " #" + copy, sorted));
        }
        JFreeChart chart = ChartFactory.createXYLineChart("End-to-end latency, cumulative distribution",
                "latency (ms)", "requests at or below (%)", dataset, PlotOrientation.VERTICAL, true, false, false);
        style(chart);
        XYPlot plot = chart.getXYPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
        plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
        // A few slow requests would otherwise squeeze the body of every curve into the left edge.
        if (min > 0 && max / min > LOG_AXIS_SPREAD) {
            plot.setDomainAxis(new OneTwoFiveLogAxis("latency (ms, log scale)"));
        }
        NumberAxis percent = (NumberAxis) plot.getRangeAxis();
        percent.setRange(0, 100.5);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < latencies.size(); i++) {
            renderer.setSeriesPaint(i, PALETTE[i % PALETTE.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2.2f));
        }
        plot.setRenderer(renderer);
        return chart;
    }

    /** The label carries p50/p99 so the tail can be read without squinting at the curve. */
    private static XYSeries cdf(String label, double[] sorted) {
        int n = sorted.length;
        XYSeries series = new XYSeries(String.format("%s  (n=%d, p50 %.1f, p99 %.1f, max %.1f ms)", label, n,
                new Percentiles(sorted).at(50), new Percentiles(sorted).at(99), sorted[n - 1]), false, true);
        int step = Math.max(1, n / MAX_CDF_POINTS);
        for (int i = 0; i < n; i += step) {
            series.add(sorted[i], 100.0 * (i + 1) / n);
        }
        series.add(sorted[n - 1], 100.0);
        return series;
    }

    /**
     * A log axis labelled at 1, 2 and 5 × 10^k: JFreeChart's log axes label either exponent steps (odd values
     * such as 251, 316) or, within a decade, only its first ticks.
     */
    private static final class OneTwoFiveLogAxis extends LogAxis {

        private static final long serialVersionUID = 1L;

        OneTwoFiveLogAxis(String label) {
            super(label);
            setNumberFormatOverride(new DecimalFormat("#,##0.###"));
            setMinorTickMarksVisible(true);
        }

        @Override
        protected List<Tick> refreshTicksHorizontal(Graphics2D g2, Rectangle2D dataArea, RectangleEdge edge) {
            Range range = getRange();
            List<Tick> ticks = new ArrayList<>();
            for (int exponent = (int) Math.floor(Math.log10(range.getLowerBound()));
                 exponent <= (int) Math.ceil(Math.log10(range.getUpperBound())); exponent++) {
                for (int mantissa = 1; mantissa <= 9; mantissa++) {
                    double value = mantissa * Math.pow(10, exponent);
                    if (!range.contains(value)) {
                        continue;
                    }
                    boolean labelled = mantissa == 1 || mantissa == 2 || mantissa == 5;
                    ticks.add(new NumberTick(labelled ? TickType.MAJOR : TickType.MINOR, value,
                            labelled ? getNumberFormatOverride().format(value) : "", TextAnchor.TOP_CENTER,
                            TextAnchor.CENTER, 0.0));
                }
            }
            return ticks;
        }
    }

    private static void style(JFreeChart chart) {
        chart.setBackgroundPaint(Color.WHITE);
        chart.getTitle().setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        chart.getLegend().setItemFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
    }
}
