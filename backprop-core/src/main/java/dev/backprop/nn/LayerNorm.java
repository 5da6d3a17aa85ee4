package dev.backprop.nn;

import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/** Layer normalisation over the trailing {@code normalizedShape}, as {@code torch.nn.LayerNorm} (weight 1, bias 0). */
public class LayerNorm extends Module {
    private final int[] normalizedShape;
    private final float eps;
    private final Tensor weight;
    private final Tensor bias;

    public LayerNorm(int... normalizedShape) {
        this(normalizedShape, 1e-5f, true, true);
    }

    public LayerNorm(int[] normalizedShape, float eps, boolean elementwiseAffine, boolean bias) {
        this.normalizedShape = normalizedShape.clone();
        this.eps = eps;
        this.weight = elementwiseAffine ? registerParameter("weight", Tensor.ones(normalizedShape)) : null;
        this.bias = elementwiseAffine && bias ? registerParameter("bias", Tensor.zeros(normalizedShape)) : null;
    }

    @Override
    protected Tensor compute(Tensor x) {
        int[] s = x.shape();
        int k = normalizedShape.length;
        checkInput(s.length >= k && java.util.Arrays.equals(java.util.Arrays.copyOfRange(s, s.length - k, s.length),
                normalizedShape), "(*, " + Shape.str(normalizedShape).replaceAll("[\\[\\]]", "") + ")", x);
        return F.layerNorm(x, normalizedShape, weight, bias, eps);
    }

    public Tensor weight() {
        return weight;
    }

    public Tensor bias() {
        return bias;
    }

    /** The trailing dimensions normalised over. */
    public int[] normalizedShape() {
        return normalizedShape.clone();
    }

    public float eps() {
        return eps;
    }

    @Override
    protected String extraRepr() {
        return "(" + Shape.str(normalizedShape).replaceAll("[\\[\\]]", "") + ",), eps=" + eps
                + ", elementwise_affine=" + (weight != null);
    }
}
