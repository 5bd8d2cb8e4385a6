package io.labelstream.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** How the commands show a class activation map: as JSON, the record's own fields, or as a compact text grid. */
final class ActivationView {

    /** Five shades, lightest first: a cell's 0 … 255 in steps of about 51. */
    private static final String SHADES = " ░▒▓█";

    private ActivationView() {
    }

    /** Adds {@code "activation": {"rows", "cols", "cells": [0 … 255, …], "box": {x, y, width, height}}}. */
    static void putJson(ObjectNode label, int rows, int cols, byte[] cells, float x, float y, float width,
                        float height) {
        ObjectNode activation = label.putObject("activation").put("rows", rows).put("cols", cols);
        ArrayNode values = activation.putArray("cells");
        for (byte cell : cells) {
            values.add(cell & 0xFF);
        }
        activation.putObject("box").put("x", x).put("y", y).put("width", width).put("height", height);
    }

    /** The grid in one line: a shade per cell, rows separated by '|', e.g. {@code [  ░|░▓█|  ░]}. */
    static String compact(int rows, int cols, byte[] cells) {
        StringBuilder text = new StringBuilder("[");
        for (int r = 0; r < rows; r++) {
            text.append(r == 0 ? "" : "|");
            for (int c = 0; c < cols; c++) {
                int v = cells[r * cols + c] & 0xFF;
                text.append(SHADES.charAt(Math.min(SHADES.length() - 1, v * SHADES.length() / 256)));
            }
        }
        return text.append(']').toString();
    }
}
