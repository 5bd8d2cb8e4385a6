package io.labelstream.model;

import java.util.List;

/**
 * The engine's answer for one batch.
 *
 * @param outcomes     one per input image, at the image's position in the batch
 * @param inferred     how many images went through the model (the others were rejected before it)
 * @param preprocessMs wall time of decode + preprocess for the batch
 * @param inferenceMs  wall time of the ONNX Runtime call(s), bisection included
 * @param model        the model that labeled the batch
 */
public record BatchOutcome(List<ImageOutcome> outcomes, int inferred, double preprocessMs, double inferenceMs,
                           ModelId model) {
}
