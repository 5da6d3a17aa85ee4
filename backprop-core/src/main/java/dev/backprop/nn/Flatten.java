package dev.backprop.nn;

import dev.backprop.tensor.Tensor;

/** Flattens dimensions startDim..endDim (PyTorch defaults 1..-1), as {@code torch.nn.Flatten}. */
public class Flatten extends Module {
    private final int startDim;
    private final int endDim;

    public Flatten() {
        this(1, -1);
    }

    public Flatten(int startDim, int endDim) {
        this.startDim = startDim;
        this.endDim = endDim;
    }

    @Override
    protected Tensor compute(Tensor x) {
        checkInput(x.dim() > Math.max(startDim, endDim < 0 ? endDim + x.dim() : endDim) || x.dim() == 0,
                "at least " + (startDim + 1) + " dimensions", x);
        return x.flatten(startDim, endDim);
    }

    public int startDim() {
        return startDim;
    }

    public int endDim() {
        return endDim;
    }

    @Override
    protected String extraRepr() {
        return "start_dim=" + startDim + ", end_dim=" + endDim;
    }
}
