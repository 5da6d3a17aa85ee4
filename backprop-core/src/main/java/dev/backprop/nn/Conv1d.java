package dev.backprop.nn;

import dev.backprop.ops.Conv;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;

/**
 * 1-D convolution over (N, C, L) or (C, L) inputs, PyTorch's {@code nn.Conv1d}: parameters
 * {@code weight} (out, in/groups, k) and {@code bias} (out), zero padding, PyTorch's default
 * initialisation (U(±1/sqrt(fan_in)) for both).
 */
public final class Conv1d extends ConvNd {
    private final int kernelSize;
    private final int stride;
    private final int padding;
    private final int dilation;

    /** Stride 1, no padding, with bias. */
    public Conv1d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, kernelSize, stride, padding, 1, 1, true);
    }

    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride, int padding, int dilation, int groups,
            boolean bias) {
        this(inChannels, outChannels, kernelSize, stride, padding, dilation, groups, bias,
                Generator.defaultGenerator());
    }

    /** The general form, drawing the parameters from {@code gen}. */
    public Conv1d(int inChannels, int outChannels, int kernelSize, int stride, int padding, int dilation, int groups,
            boolean bias, Generator gen) {
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        checkSettings("Conv1d", inChannels, outChannels, groups, new int[] {kernelSize}, new int[] {stride},
                new int[] {padding}, new int[] {dilation});
        super(inChannels, outChannels, groups, new int[] {outChannels, inChannels / groups, kernelSize}, bias, gen);
    }

    @Override
    protected Tensor compute(Tensor input) {
        boolean ok = input.dim() == 3 && input.size(1) == inChannels || input.dim() == 2 && input.size(0) == inChannels;
        checkInput(ok, expected(input.dim(), inChannels, "L"), input);
        return reported(this, () -> Conv.conv1d(input, weight(), bias(), stride, padding, dilation, groups));
    }

    public int kernelSize() {
        return kernelSize;
    }

    public int stride() {
        return stride;
    }

    /** Zero padding on each side. */
    public int padding() {
        return padding;
    }

    public int dilation() {
        return dilation;
    }

    @Override
    protected String extraRepr() {
        return convRepr(inChannels, outChannels, new int[] {kernelSize}, new int[] {stride},
                new int[] {padding}, new int[] {dilation}, null, groups, bias() == null);
    }
}
