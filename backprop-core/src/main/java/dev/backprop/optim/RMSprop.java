package dev.backprop.optim;

import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * RMSprop as {@code torch.optim.RMSprop}:
 * <pre>
 * g = grad + weight_decay · p;   s = α s + (1 − α) g²
 * avg = √(s − ḡ²) + eps with ḡ = α ḡ + (1 − α) g (centered), else √s + eps
 * b = momentum · b + g / avg; p = p − lr · b (momentum > 0), else p = p − lr · g / avg
 * </pre>
 */
public final class RMSprop extends Optimizer {

    /** PyTorch's defaults: alpha 0.99, eps 1e-8, no weight decay, no momentum, not centered. */
    public RMSprop(List<Tensor> params, double lr) {
        this(params, lr, 0.99, 1e-8, 0, 0, false);
    }

    public RMSprop(List<Tensor> params, double lr, double alpha, double eps, double weightDecay, double momentum,
            boolean centered) {
        this(single(params), lr, alpha, eps, weightDecay, momentum, centered, true);
    }

    /** Parameter groups; options a group does not set come from these arguments. */
    public static RMSprop ofGroups(List<ParamGroup> groups, double lr, double alpha, double eps, double weightDecay,
            double momentum, boolean centered) {
        return new RMSprop(groups, lr, alpha, eps, weightDecay, momentum, centered, true);
    }

    private RMSprop(List<ParamGroup> groups, double lr, double alpha, double eps, double weightDecay,
            double momentum, boolean centered, boolean grouped) {
        super(groups, Map.of("lr", lr, "alpha", alpha, "eps", eps, "weight_decay", weightDecay, "momentum", momentum,
                "centered", centered ? 1.0 : 0.0));
    }

    @Override
    protected void update(ParamGroup group, float[] p, int off, int n, float[] grad, long step,
            Map<String, float[]> state) {
        float lr = (float) group.lr();
        float alpha = (float) group.get("alpha");
        float eps = (float) group.get("eps");
        float wd = (float) group.get("weight_decay");
        float momentum = (float) group.get("momentum");
        boolean centered = group.get("centered") != 0;
        float[] s = buffer(state, "square_avg", n);
        float[] gAvg = centered ? buffer(state, "grad_avg", n) : null;
        float[] buf = momentum > 0 ? buffer(state, "momentum_buffer", n) : null;
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            if (wd != 0) {
                g += wd * p[off + i];
            }
            s[i] = alpha * s[i] + (1 - alpha) * g * g;
            float avg;
            if (gAvg != null) {
                gAvg[i] += (g - gAvg[i]) * (1 - alpha);
                avg = (float) Math.sqrt(s[i] - gAvg[i] * gAvg[i]) + eps;
            } else {
                avg = (float) Math.sqrt(s[i]) + eps;
            }
            if (buf != null) {
                buf[i] = momentum * buf[i] + g / avg;
                p[off + i] -= lr * buf[i];
            } else {
                p[off + i] -= lr * g / avg;
            }
        }
    }
}
