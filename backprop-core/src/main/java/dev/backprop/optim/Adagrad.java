package dev.backprop.optim;

import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Map;

/**
 * Adagrad as {@code torch.optim.Adagrad}:
 * <pre>
 * g = grad + weight_decay · p;   clr = lr / (1 + (t − 1) · lr_decay)
 * s = s + g²;   p = p − clr · g / (√s + eps)
 * </pre>
 */
public final class Adagrad extends Optimizer {

    /** PyTorch's defaults: no lr decay, no weight decay, accumulator starting at 0, eps 1e-10. */
    public Adagrad(List<Tensor> params, double lr) {
        this(params, lr, 0, 0, 0, 1e-10);
    }

    public Adagrad(List<Tensor> params, double lr, double lrDecay, double weightDecay,
            double initialAccumulatorValue, double eps) {
        this(single(params), lr, lrDecay, weightDecay, initialAccumulatorValue, eps, true);
    }

    /** Parameter groups; options a group does not set come from these arguments. */
    public static Adagrad ofGroups(List<ParamGroup> groups, double lr, double lrDecay, double weightDecay,
            double initialAccumulatorValue, double eps) {
        return new Adagrad(groups, lr, lrDecay, weightDecay, initialAccumulatorValue, eps, true);
    }

    private Adagrad(List<ParamGroup> groups, double lr, double lrDecay, double weightDecay,
            double initialAccumulatorValue, double eps, boolean grouped) {
        super(groups, Map.of("lr", lr, "lr_decay", lrDecay, "weight_decay", weightDecay,
                "initial_accumulator_value", initialAccumulatorValue, "eps", eps));
    }

    @Override
    protected void update(ParamGroup group, float[] p, int off, int n, float[] grad, long step,
            Map<String, float[]> state) {
        float wd = (float) group.get("weight_decay");
        float eps = (float) group.get("eps");
        float clr = (float) (group.lr() / (1 + (step - 1) * group.get("lr_decay")));
        boolean fresh = !state.containsKey("sum");
        float[] s = buffer(state, "sum", n);
        if (fresh) {
            java.util.Arrays.fill(s, (float) group.get("initial_accumulator_value"));
        }
        for (int i = 0; i < n; i++) {
            float g = grad[i];
            if (wd != 0) {
                g += wd * p[off + i];
            }
            s[i] += g * g;
            p[off + i] -= clr * g / ((float) Math.sqrt(s[i]) + eps);
        }
    }
}
