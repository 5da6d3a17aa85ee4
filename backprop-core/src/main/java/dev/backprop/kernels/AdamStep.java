package dev.backprop.kernels;

/**
 * The scalars of one Adam/AdamW update ({@link Kernels#adam}), as {@code torch.optim.Adam} computes
 * them for step t:
 * <pre>
 * AdamW: p = p · decay                  Adam: g = g + weightDecay · p
 * m += (g − m)(1 − β1);   v = β2 v + (1 − β2) g²
 * p −= stepSize · m / (√v / bias2Sqrt + eps)
 * </pre>
 *
 * @param beta1 β1
 * @param beta2 β2
 * @param eps added to the denominator
 * @param weightDecay the weight decay (0 for none)
 * @param decoupled AdamW's decoupled decay (multiply p by {@code decay}) instead of Adam's L2 term
 * @param stepSize lr / (1 − β1^t)
 * @param bias2Sqrt √(1 − β2^t)
 * @param decay 1 − lr · weightDecay
 */
public record AdamStep(float beta1, float beta2, float eps, float weightDecay, boolean decoupled, float stepSize,
                       float bias2Sqrt, float decay) {}
