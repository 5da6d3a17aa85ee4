package dev.backprop.ops;

import dev.backprop.autograd.GradMode;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Reductions composed from primitive ops, so their gradients follow from those ops' (tinygrad's
 * way): mean = sum / n; var = sum((x - mean)^2) / (n - correction); logsumexp = m + log(sum(exp(x - m)))
 * with m the detached maximum, which keeps exp from overflowing and leaves the gradient unchanged.
 */
public final class Reductions {
    private Reductions() {}

    public static Tensor mean(Tensor x, int[] dims, boolean keepdim) {
        return x.sum(dims, keepdim).div(count(x, dims, "mean"));
    }

    public static Tensor var(Tensor x, int[] dims, boolean unbiased, boolean keepdim) {
        int n = count(x, dims, "var");
        Tensor centered = x.sub(x.mean(dims, true));
        return centered.mul(centered).sum(dims, keepdim).div(unbiased ? n - 1 : n);
    }

    public static Tensor logsumexp(Tensor x, int[] dims, boolean keepdim) {
        Tensor m;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            m = x.detach();
            for (int d : sortedDescending(dims, x.dim())) {
                m = m.max(d, true);
            }
            // an all -inf row would give -inf - -inf = NaN; shift such rows by 0 instead
            m = m.maskedFill(m.isInfinite(), 0f);
        }
        Tensor out = x.sub(m).exp().sum(dims, true).log().add(m);
        return keepdim ? out : out.reshape(Sum.squeezed(x.shape(), Sum.reducedMask(dims, x.dim(), "logsumexp")));
    }

    private static int[] sortedDescending(int[] dims, int rank) {
        boolean[] mask = Sum.reducedMask(dims, rank, "logsumexp");
        int[] out = new int[dims.length];
        int k = 0;
        for (int i = rank - 1; i >= 0; i--) {
            if (mask[i]) {
                out[k++] = i;
            }
        }
        return java.util.Arrays.copyOf(out, k);
    }

    private static int count(Tensor x, int[] dims, String op) {
        boolean[] mask = Sum.reducedMask(dims, x.dim(), op);
        int[] shape = x.shape();
        int n = 1;
        for (int i = 0; i < shape.length; i++) {
            if (mask[i]) {
                n *= shape[i];
            }
        }
        if (n == 0) {
            throw new IllegalArgumentException(op + ": cannot reduce over an empty dimension of " + Shape.str(shape));
        }
        return n;
    }
}
