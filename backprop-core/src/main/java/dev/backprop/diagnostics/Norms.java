package dev.backprop.diagnostics;

/**
 * The gradient-flow numbers of one parameter, or of one layer (all its parameters together), at
 * one monitored step.
 *
 * @param gradNorm L2 norm of the gradient the optimizer used (after clipping); 0 without gradient
 * @param weightNorm L2 norm of the weights before the optimizer step
 * @param updateRatio ||w_after - w_before|| / ||w_before|| (NaN when the weights are all zero)
 * @param nonFiniteFraction fraction of the gradient's values that are NaN or infinite
 * @param hasGrad whether a gradient reached it (for a layer: reached one of its parameters)
 * @param trainable whether it requires a gradient (for a layer: one of its parameters does)
 */
public record Norms(double gradNorm, double weightNorm, double updateRatio, double nonFiniteFraction,
        boolean hasGrad, boolean trainable) {}
