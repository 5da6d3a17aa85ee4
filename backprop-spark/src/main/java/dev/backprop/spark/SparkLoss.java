package dev.backprop.spark;

import dev.backprop.tensor.Tensor;
import java.io.Serializable;

/**
 * The loss of a batch, shipped to the executors: a serializable lambda or method reference such
 * as {@code F::crossEntropy}. Must be the mean over the batch's examples (as PyTorch's losses with
 * {@code reduction='mean'} are): the trainer weights each micro-batch by its share of the global
 * batch.
 */
@FunctionalInterface
public interface SparkLoss extends Serializable {
    /** The scalar loss of {@code output} against {@code target}. */
    Tensor compute(Tensor output, Tensor target);
}
