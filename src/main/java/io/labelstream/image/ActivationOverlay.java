package io.labelstream.image;

import java.awt.image.BufferedImage;

/**
 * Lays a class activation map over the image it was computed for: the grid, upsampled bilinearly (cell values at
 * cell centres) over the region of the image it covers, coloured with the jet colour map of the CAM paper and
 * blended half and half with the image; outside the region, which the model never saw, the image is dimmed.
 */
public final class ActivationOverlay {

    private static final float BLEND = 0.5f;
    private static final float OUTSIDE = 0.35f;

    private ActivationOverlay() {
    }

    /**
     * @param image the source image, upright, of the size {@code box} is in
     * @param cells {@code rows × cols} unsigned bytes, row-major, 255 the map's maximum
     * @throws IllegalArgumentException when the cells do not fill the grid
     */
    public static BufferedImage render(BufferedImage image, int rows, int cols, byte[] cells, SourceRegion box) {
        if (rows <= 0 || cols <= 0 || cells.length != rows * cols) {
            throw new IllegalArgumentException("a " + rows + " x " + cols + " map needs " + rows * cols
                    + " cells, not " + cells.length);
        }
        int w = image.getWidth();
        int h = image.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = image.getRGB(x, y);
                // Pixel centre in the grid's coordinates, where cell (r, c) has its centre at (c + 0.5, r + 0.5).
                float gx = (x + 0.5f - box.x()) / box.width() * cols;
                float gy = (y + 0.5f - box.y()) / box.height() * rows;
                if (gx < 0 || gy < 0 || gx >= cols || gy >= rows) {
                    out.setRGB(x, y, scaled(rgb, OUTSIDE));
                    continue;
                }
                int heat = jet(bilinear(cells, rows, cols, gx - 0.5f, gy - 0.5f));
                out.setRGB(x, y, blend(rgb, heat));
            }
        }
        return out;
    }

    /** The grid's value at fractional cell position (cx, cy), edges held, as 0 … 1. */
    static float bilinear(byte[] cells, int rows, int cols, float cx, float cy) {
        float x = Math.max(0, Math.min(cols - 1, cx));
        float y = Math.max(0, Math.min(rows - 1, cy));
        int x0 = (int) x;
        int y0 = (int) y;
        int x1 = Math.min(cols - 1, x0 + 1);
        int y1 = Math.min(rows - 1, y0 + 1);
        float fx = x - x0;
        float fy = y - y0;
        float top = (cells[y0 * cols + x0] & 0xFF) * (1 - fx) + (cells[y0 * cols + x1] & 0xFF) * fx;
        float bottom = (cells[y1 * cols + x0] & 0xFF) * (1 - fx) + (cells[y1 * cols + x1] & 0xFF) * fx;
        return (top * (1 - fy) + bottom * fy) / 255f;
    }

    /** MATLAB's jet: dark blue at 0, through cyan, yellow, to dark red at 1. */
    static int jet(float v) {
        float r = clamp(Math.min(4 * v - 1.5f, -4 * v + 4.5f));
        float g = clamp(Math.min(4 * v - 0.5f, -4 * v + 3.5f));
        float b = clamp(Math.min(4 * v + 0.5f, -4 * v + 2.5f));
        return (Math.round(r * 255) << 16) | (Math.round(g * 255) << 8) | Math.round(b * 255);
    }

    private static float clamp(float v) {
        return Math.max(0f, Math.min(1f, v));
    }

    private static int blend(int rgb, int heat) {
        int out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
            float mixed = ((rgb >> shift) & 0xFF) * (1 - BLEND) + ((heat >> shift) & 0xFF) * BLEND;
            out |= Math.round(mixed) << shift;
        }
        return out;
    }

    private static int scaled(int rgb, float factor) {
        int out = 0;
        for (int shift = 16; shift >= 0; shift -= 8) {
            out |= Math.round(((rgb >> shift) & 0xFF) * factor) << shift;
        }
        return out;
    }
}
