package io.labelstream.model;

import io.labelstream.image.SourceRegion;

/**
 * Where in an image the model found one class: its class activation map on the model's feature grid, negatives
 * clipped and scaled so that 255 is the map's maximum (all 0 when nothing in the image speaks for the class), and
 * the region of the source image that the grid covers.
 *
 * @param cells {@code rows × cols} unsigned bytes, row-major
 */
public record Activation(int rows, int cols, byte[] cells, SourceRegion box) {

    /** Cell {@code (row, col)} as 0 … 255. */
    public int cell(int row, int col) {
        return cells[row * cols + col] & 0xFF;
    }
}
