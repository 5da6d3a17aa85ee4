package dev.backprop.optim;

import dev.backprop.autograd.GradMode;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.Tensor;
import java.util.List;

/** Gradient clipping, as {@code torch.nn.utils.clip_grad_norm_} and {@code clip_grad_value_}. */
public final class Clip {
    private Clip() {}

    /**
     * Scales every gradient by min(1, maxNorm / (total + 1e-6)), where total is the L2 norm of all
     * gradients together; returns that total norm (before clipping). Parameters without a gradient
     * are ignored.
     */
    public static double gradNorm(List<Tensor> params, double maxNorm) {
        double total = totalNorm(params);
        double coef = Math.min(1.0, maxNorm / (total + 1e-6));
        if (coef < 1.0) {
            try (GradMode.Scope ignored = GradMode.noGrad()) {
                for (Tensor p : params) {
                    if (p.grad() != null) {
                        p.grad().mulInPlace((float) coef);
                    }
                }
            }
        }
        return total;
    }

    /**
     * The L2 norm of all gradients together (parameters without a gradient are ignored), without
     * changing them: what {@link #gradNorm} returns. Each square is taken in float, as in PyTorch's
     * float32 norms, and summed in double by the SIMD kernel.
     */
    public static double totalNorm(List<Tensor> params) {
        double sumSq = 0;
        Kernels k = Kernels.get();
        for (Tensor p : params) {
            Tensor grad = p.grad();
            if (grad != null) {
                Tensor g = grad.contiguous(); // the gradient itself when contiguous: no copy
                sumSq += k.sumOfSquares(g.floatStorage(), g.offset(), g.numel());
            }
        }
        return Math.sqrt(sumSq);
    }

    /** Clamps every gradient element into [-clipValue, clipValue]. */
    public static void gradValue(List<Tensor> params, double clipValue) {
        float c = (float) clipValue;
        for (Tensor p : params) {
            Tensor g = p.grad();
            if (g != null) {
                float[] v = g.toFloatArray();
                for (int i = 0; i < v.length; i++) {
                    v[i] = Math.max(-c, Math.min(c, v[i]));
                }
                p.setGrad(Tensor.of(v, g.shape()));
            }
        }
    }
}
