package dev.backprop.nn;

import dev.backprop.tensor.Tensor;

/**
 * y = x Wᵀ + b over the last dimension, as {@code torch.nn.Linear}: weight (out, in), bias (out).
 * Default initialisation is PyTorch's: W ~ U(-1/√in, 1/√in) (kaiming uniform with a = √5), b likewise.
 */
public class Linear extends Module {
    private final int inFeatures;
    private final int outFeatures;
    private final Tensor weight; // (out, in)
    private final Tensor bias; // (out) or null

    public Linear(int inFeatures, int outFeatures) {
        this(inFeatures, outFeatures, true);
    }

    public Linear(int inFeatures, int outFeatures, boolean bias) {
        if (inFeatures <= 0 || outFeatures <= 0) {
            throw new IllegalArgumentException("Linear: sizes must be positive, got in=" + inFeatures + ", out="
                    + outFeatures);
        }
        this.inFeatures = inFeatures;
        this.outFeatures = outFeatures;
        this.weight = registerParameter("weight", Tensor.zeros(outFeatures, inFeatures));
        this.bias = bias ? registerParameter("bias", Tensor.zeros(outFeatures)) : null;
        resetParameters();
    }

    /** PyTorch's default initialisation. */
    public void resetParameters() {
        Init.linearDefault(weight, bias, dev.backprop.tensor.Generator.defaultGenerator());
    }

    @Override
    protected Tensor compute(Tensor x) {
        checkInput(x.dim() >= 1 && x.size(-1) == inFeatures, "(*, " + inFeatures + ")", x);
        return F.linear(x, weight, bias);
    }

    public Tensor weight() {
        return weight;
    }

    /** The bias, or null when built without one. */
    public Tensor bias() {
        return bias;
    }

    public int inFeatures() {
        return inFeatures;
    }

    public int outFeatures() {
        return outFeatures;
    }

    @Override
    protected String extraRepr() {
        return "in_features=" + inFeatures + ", out_features=" + outFeatures + ", bias=" + (bias != null);
    }
}
