package dev.backprop.optim;

import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Stochastic gradient descent with momentum, dampening, Nesterov and L2 weight decay, exactly as
 * {@code torch.optim.SGD}:
 * <pre>
 * g = grad + weight_decay · p
 * b = g on the first step, else momentum · b + (1 − dampening) · g
 * g = g + momentum · b (Nesterov) or b (momentum > 0)
 * p = p − lr · g
 * </pre>
 */
public final class SGD extends Optimizer {

    /** Plain SGD. */
    public SGD(List<Tensor> params, double lr) {
        this(params, lr, 0, 0, 0, false);
    }

    public SGD(List<Tensor> params, double lr, double momentum) {
        this(params, lr, momentum, 0, 0, false);
    }

    public SGD(List<Tensor> params, double lr, double momentum, double dampening, double weightDecay,
            boolean nesterov) {
        this(single(params), lr, momentum, dampening, weightDecay, nesterov, true);
    }

    /** Parameter groups; options a group does not set come from these arguments. */
    public static SGD ofGroups(List<ParamGroup> groups, double lr, double momentum, double dampening, double weightDecay,
            boolean nesterov) {
        return new SGD(groups, lr, momentum, dampening, weightDecay, nesterov, true);
    }

    private SGD(List<ParamGroup> groups, double lr, double momentum, double dampening, double weightDecay,
            boolean nesterov, boolean grouped) {
        super(groups, Map.of("lr", lr, "momentum", momentum, "dampening", dampening, "weight_decay", weightDecay,
                "nesterov", nesterov ? 1.0 : 0.0));
        for (ParamGroup g : groups) {
            if (g.get("nesterov") != 0 && (g.get("momentum") <= 0 || g.get("dampening") != 0)) {
                throw new IllegalArgumentException("SGD: Nesterov momentum requires a momentum and zero dampening");
            }
        }
    }

    @Override
    protected void update(ParamGroup group, float[] p, int off, int n, float[] grad, long step,
            Map<String, float[]> state) {
        float lr = (float) group.lr();
        float wd = (float) group.get("weight_decay");
        float momentum = (float) group.get("momentum");
        float dampening = (float) group.get("dampening");
        boolean nesterov = group.get("nesterov") != 0;
        boolean first = !state.containsKey("momentum_buffer");
        float[] buf = momentum != 0 ? buffer(state, "momentum_buffer", n) : null;
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            if (wd != 0) {
                g += wd * p[off + i];
            }
            if (buf != null) {
                buf[i] = first ? g : momentum * buf[i] + (1 - dampening) * g;
                g = nesterov ? g + momentum * buf[i] : buf[i];
            }
            p[off + i] -= lr * g;
        }
    }
}
