package dev.backprop.nn;

import dev.backprop.ops.Pool;
import dev.backprop.tensor.Tensor;

/**
 * Adaptive average pooling to a fixed output size whatever the input's H and W, PyTorch's
 * {@code nn.AdaptiveAvgPool2d}: output cell (i, j) averages input rows floor(i H / outH) to
 * ceil((i + 1) H / outH) - 1 and the columns likewise. {@code new AdaptiveAvgPool2d(1)} is global
 * average pooling.
 */
public final class AdaptiveAvgPool2d extends Module {
    private final int outH;
    private final int outW;

    /** Square output {@code outputSize} × {@code outputSize}. */
    public AdaptiveAvgPool2d(int outputSize) {
        this(outputSize, outputSize);
    }

    public AdaptiveAvgPool2d(int outH, int outW) {
        if (outH < 1 || outW < 1) {
            throw new IllegalArgumentException(typeName() + ": the output size must be positive, got (" + outH + ", "
                    + outW + ")");
        }
        this.outH = outH;
        this.outW = outW;
    }

    @Override
    protected Tensor compute(Tensor input) {
        checkInput(input.dim() == 3 || input.dim() == 4, ConvNd.expected(0, -1, "H, W"), input);
        return ConvNd.reported(this, () -> Pool.adaptiveAvgPool2d(input, outH, outW));
    }

    /** {outH, outW}. */
    public int[] outputSize() {
        return new int[] {outH, outW};
    }

    @Override
    protected String extraRepr() {
        return "output_size=" + ConvNd.size(new int[] {outH, outW});
    }
}
