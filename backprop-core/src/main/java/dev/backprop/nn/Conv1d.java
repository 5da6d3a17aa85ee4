package dev.backprop.nn;

import dev.backprop.ops.Conv;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;

/**
 * 1-D convolution over (N, C, L) or (C, L) inputs, PyTorch's {@code nn.Conv1d}: parameters
 * {@code weight} (out, in/groups, k) and {@code bias} (out), zero padding, PyTorch's default
 * initialisation (U(±1/sqrt(fan_in)) for both).
 */
public final class Conv1d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int kernelSize;
    private final int stride;
    private final int padding;
    private final int dilation;
    private final int groups;
    private final Tensor weight; // (out, in/groups, k)
    private final Tensor bias; // (out) or null

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
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = kernelSize;
        this.stride = stride;
        this.padding = padding;
        this.dilation = dilation;
        this.groups = groups;
        Conv2d.checkSettings(typeName(), inChannels, outChannels, groups, new int[] {kernelSize}, new int[] {stride},
                new int[] {padding}, new int[] {dilation});
        Tensor w = Tensor.zeros(outChannels, inChannels / groups, kernelSize);
        Tensor b = bias ? Tensor.zeros(outChannels) : null;
        Conv2d.initParameters(w, b, gen);
        this.weight = registerParameter("weight", w);
        this.bias = registerParameter("bias", b);
    }

    /** Draws the parameters again with PyTorch's default initialisation, from the default generator. */
    public void resetParameters() {
        Conv2d.initParameters(weight, bias, Generator.defaultGenerator());
    }

    /** The kernel, (out, in/groups, k). */
    public Tensor weight() {
        return weight;
    }

    /** The bias, (out), or null when built without one. */
    public Tensor bias() {
        return bias;
    }

    @Override
    protected Tensor compute(Tensor input) {
        boolean ok = input.dim() == 3 && input.size(1) == inChannels || input.dim() == 2 && input.size(0) == inChannels;
        checkInput(ok, Conv2d.expected(input.dim(), inChannels, "L"), input);
        return Conv2d.reported(this, () -> Conv.conv1d(input, weight, bias, stride, padding, dilation, groups));
    }

    @Override
    protected String extraRepr() {
        return Conv2d.convRepr(inChannels, outChannels, new int[] {kernelSize}, new int[] {stride},
                new int[] {padding}, new int[] {dilation}, null, groups, bias == null);
    }
}
