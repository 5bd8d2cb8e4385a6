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
 * @param sides        each side model's outcomes for the same images, in the order the models were added
 */
public record BatchOutcome(List<ImageOutcome> outcomes, int inferred, double preprocessMs, double inferenceMs,
                           ModelId model, List<SideOutcome> sides) {

    /**
     * @param outcomes    one per input image; null for an image the primary's preprocessing rejected (its failure
     *                    record is the image's only output)
     * @param recipeName  the name of the recipe its input was preprocessed by
     * @param recipeHash  that recipe's hash, as output records carry it
     * @param inferenceMs wall time of this model's ONNX Runtime call(s)
     */
    public record SideOutcome(String name, ModelId model, String recipeName, String recipeHash,
                              List<ImageOutcome> outcomes, double inferenceMs) {
    }
}
