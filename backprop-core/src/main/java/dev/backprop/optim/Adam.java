package dev.backprop.optim;

import dev.backprop.kernels.AdamStep;
import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Adam (Kingma and Ba, 2015) and AdamW (Loshchilov and Hutter, 2019) exactly as
 * {@code torch.optim.Adam} / {@code AdamW} compute them:
 * <pre>
 * AdamW:  p = p · (1 − lr · weight_decay)          Adam:  g = grad + weight_decay · p
 * m = β1 m + (1 − β1) g;   v = β2 v + (1 − β2) g²   (v̂ = max(v̂, v) with amsgrad)
 * p = p − lr / (1 − β1^t) · m / (√v / √(1 − β2^t) + eps)
 * </pre>
 */
public class Adam extends Optimizer {
    private final boolean decoupled;

    /** Adam with PyTorch's defaults: betas (0.9, 0.999), eps 1e-8, no weight decay. */
    public Adam(List<Tensor> params, double lr) {
        this(single(params), lr, 0.9, 0.999, 1e-8, 0, false);
    }

    public Adam(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(single(params), lr, beta1, beta2, eps, weightDecay, false);
    }

    /** Parameter groups; options a group does not set come from these arguments. */
    public Adam(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay,
            boolean amsgrad) {
        this(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, false);
    }

    Adam(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay,
            boolean amsgrad, boolean decoupled) {
        super(groups, Map.of("lr", lr, "beta1", beta1, "beta2", beta2, "eps", eps, "weight_decay", weightDecay,
                "amsgrad", amsgrad ? 1.0 : 0.0));
        this.decoupled = decoupled;
        for (ParamGroup g : groups) {
            if (g.get("beta1") >= 1 || g.get("beta2") >= 1) {
                throw new IllegalArgumentException(getClass().getSimpleName() + ": betas must be in [0, 1), got ("
                        + g.get("beta1") + ", " + g.get("beta2") + ")");
            }
        }
    }

    @Override
    protected void update(ParamGroup group, float[] p, int off, int n, float[] grad, long step,
            Map<String, float[]> state) {
        double lr = group.lr();
        float wd = (float) group.get("weight_decay");
        float beta1 = (float) group.get("beta1");
        float beta2 = (float) group.get("beta2");
        float eps = (float) group.get("eps");
        boolean amsgrad = group.get("amsgrad") != 0;
        float[] m = buffer(state, "exp_avg", n);
        float[] v = buffer(state, "exp_avg_sq", n);
        float[] vMax = amsgrad ? buffer(state, "max_exp_avg_sq", n) : null;
        float stepSize = (float) (lr / (1 - Math.pow(beta1, step)));
        float bias2Sqrt = (float) Math.sqrt(1 - Math.pow(beta2, step));
        float decay = (float) (1 - lr * wd);
        if (vMax == null) {
            Kernels.get().adam(new AdamStep(beta1, beta2, eps, wd, decoupled, stepSize, bias2Sqrt, decay), p, off,
                    grad, 0, m, v, n);
            return;
        }
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            if (wd != 0) {
                if (decoupled) {
                    p[off + i] *= decay;
                } else {
                    g += wd * p[off + i];
                }
            }
            m[i] += (g - m[i]) * (1 - beta1); // lerp, as PyTorch
            v[i] = beta2 * v[i] + (1 - beta2) * g * g;
            float second = v[i];
            if (vMax != null) {
                vMax[i] = Math.max(vMax[i], v[i]);
                second = vMax[i];
            }
            float denom = (float) Math.sqrt(second) / bias2Sqrt + eps;
            p[off + i] -= stepSize * m[i] / denom;
        }
    }
}
