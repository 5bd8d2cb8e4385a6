package io.labelstream.model.adapt;

import java.util.ArrayList;
import java.util.List;

/** Counts of (true class, predicted class) on a set of images; rows are the truth. */
public record ConfusionMatrix(List<String> labels, int[][] counts) {

    static ConfusionMatrix of(List<String> labels, int[] truth, int[] predicted) {
        int[][] counts = new int[labels.size()][labels.size()];
        for (int i = 0; i < truth.length; i++) {
            counts[truth[i]][predicted[i]]++;
        }
        return new ConfusionMatrix(labels, counts);
    }

    public int total() {
        int n = 0;
        for (int[] row : counts) {
            for (int v : row) {
                n += v;
            }
        }
        return n;
    }

    public int correct() {
        int n = 0;
        for (int c = 0; c < counts.length; c++) {
            n += counts[c][c];
        }
        return n;
    }

    public double accuracy() {
        return total() == 0 ? Double.NaN : (double) correct() / total();
    }

    /** The matrix as text: one row per true class, columns headed by the first letters of each class. */
    public List<String> lines() {
        int nameWidth = 5;
        for (String l : labels) {
            nameWidth = Math.max(nameWidth, l.length());
        }
        List<String> lines = new ArrayList<>();
        // Columns are the predicted classes, in the same order as the rows.
        StringBuilder header = new StringBuilder(String.format("%-" + nameWidth + "s", "true"));
        for (String l : labels) {
            header.append(String.format(" %4s", l.length() <= 4 ? l : l.substring(0, 4)));
        }
        lines.add(header.toString());
        for (int r = 0; r < counts.length; r++) {
            StringBuilder row = new StringBuilder(String.format("%-" + nameWidth + "s", labels.get(r)));
            for (int c = 0; c < counts.length; c++) {
                row.append(String.format(" %4s", counts[r][c] == 0 ? "." : Integer.toString(counts[r][c])));
            }
            lines.add(row.toString());
        }
        return lines;
    }
}
