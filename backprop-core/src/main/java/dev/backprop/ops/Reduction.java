package dev.backprop.ops;

import dev.backprop.tensor.Tensor;

/** How a loss combines its per-element values, as PyTorch's {@code reduction} argument. */
public enum Reduction {
    /** Per-element losses, same shape as the target. */
    NONE,
    /** The average (for class losses: weighted by the class weights of the non-ignored targets). */
    MEAN,
    /** The sum. */
    SUM;

    /** Applies this reduction to a tensor of per-element losses. */
    public Tensor reduce(Tensor perElement) {
        return switch (this) {
            case NONE -> perElement;
            case MEAN -> perElement.mean();
            case SUM -> perElement.sum();
        };
    }
}
