package io.labelstream.model;

/** One class of an image's top k: its index in the model's output, its name, and its probability. */
public record ClassScore(int index, String label, float score) {
}
