package dev.backprop.optim;

import dev.backprop.tensor.Tensor;
import java.util.List;

/** Adam with decoupled weight decay (see {@link Adam}); PyTorch's default weight decay is 0.01. */
public final class AdamW extends Adam {

    public AdamW(List<Tensor> params, double lr) {
        this(params, lr, 0.9, 0.999, 1e-8, 0.01);
    }

    public AdamW(List<Tensor> params, double lr, double beta1, double beta2, double eps, double weightDecay) {
        this(single(params), lr, beta1, beta2, eps, weightDecay, false);
    }

    public AdamW(List<ParamGroup> groups, double lr, double beta1, double beta2, double eps, double weightDecay,
            boolean amsgrad) {
        super(groups, lr, beta1, beta2, eps, weightDecay, amsgrad, true);
    }
}
