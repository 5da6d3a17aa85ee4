package dev.backprop.train;

/**
 * Result of evaluating a model on a data set.
 *
 * @param loss mean loss per example
 * @param examples number of examples
 * @param confusion the confusion matrix for classification, or null
 */
public record Evaluation(double loss, long examples, ConfusionMatrix confusion) {

    /** Accuracy for classification, NaN otherwise. */
    public double accuracy() {
        return confusion == null ? Double.NaN : confusion.accuracy();
    }
}
