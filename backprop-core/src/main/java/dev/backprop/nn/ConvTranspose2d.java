package dev.backprop.nn;

import dev.backprop.ops.Conv;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;

/**
 * 2-D transposed convolution (the gradient of a convolution with respect to its input, used to
 * upsample), PyTorch's {@code nn.ConvTranspose2d}: parameters {@code weight}
 * (in, out/groups, kH, kW) and {@code bias} (out); output size
 * (H - 1) stride - 2 padding + dilation (k - 1) + output_padding + 1. Initialised as PyTorch does,
 * with fan_in taken from the weight's shape: out/groups · kH · kW.
 */
public final class ConvTranspose2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int[] kernelSize; // {kH, kW}
    private final int[] stride; // {h, w}
    private final int[] padding; // {h, w}
    private final int[] outputPadding; // {h, w}
    private final int[] dilation; // {h, w}
    private final int groups;
    private final Tensor weight; // (in, out/groups, kH, kW)
    private final Tensor bias; // (out) or null

    /** Stride 1, no padding, with bias. */
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0, 0);
    }

    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride, int padding,
            int outputPadding) {
        this(inChannels, outChannels, kernelSize, stride, padding, outputPadding, 1, true, 1);
    }

    /** PyTorch's argument order: ..., output_padding, groups, bias, dilation. */
    public ConvTranspose2d(int inChannels, int outChannels, int kernelSize, int stride, int padding,
            int outputPadding, int groups, boolean bias, int dilation) {
        this(inChannels, outChannels, new int[] {kernelSize}, new int[] {stride}, new int[] {padding},
                new int[] {outputPadding}, groups, bias, new int[] {dilation}, Generator.defaultGenerator());
    }

    /** The general form: each size is {h, w} or one value for both; parameters drawn from {@code gen}. */
    public ConvTranspose2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding,
            int[] outputPadding, int groups, boolean bias, int[] dilation, Generator gen) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = Conv2d.pair(kernelSize, "kernel_size");
        this.stride = Conv2d.pair(stride, "stride");
        this.padding = Conv2d.pair(padding, "padding");
        this.outputPadding = Conv2d.pair(outputPadding, "output_padding");
        this.dilation = Conv2d.pair(dilation, "dilation");
        this.groups = groups;
        Conv2d.checkSettings(typeName(), inChannels, outChannels, groups, this.kernelSize, this.stride, this.padding,
                this.dilation);
        for (int i = 0; i < 2; i++) {
            if (this.outputPadding[i] < 0 || this.outputPadding[i] >= Math.max(this.stride[i], this.dilation[i])) {
                throw new IllegalArgumentException(typeName() + ": output_padding " + Conv2d.tuple(this.outputPadding)
                        + " must be >= 0 and smaller than either the stride " + Conv2d.tuple(this.stride)
                        + " or the dilation " + Conv2d.tuple(this.dilation));
            }
        }
        Tensor w = Tensor.zeros(inChannels, outChannels / groups, this.kernelSize[0], this.kernelSize[1]);
        Tensor b = bias ? Tensor.zeros(outChannels) : null;
        Conv2d.initParameters(w, b, gen);
        this.weight = registerParameter("weight", w);
        this.bias = registerParameter("bias", b);
    }

    /** Draws the parameters again with PyTorch's default initialisation, from the default generator. */
    public void resetParameters() {
        Conv2d.initParameters(weight, bias, Generator.defaultGenerator());
    }

    /** The kernel, (in, out/groups, kH, kW). */
    public Tensor weight() {
        return weight;
    }

    /** The bias, (out), or null when built without one. */
    public Tensor bias() {
        return bias;
    }

    @Override
    protected Tensor compute(Tensor input) {
        boolean ok = input.dim() == 4 && input.size(1) == inChannels || input.dim() == 3 && input.size(0) == inChannels;
        checkInput(ok, Conv2d.expected(input.dim(), inChannels, "H, W"), input);
        return Conv2d.reported(this, () -> Conv.convTranspose2d(input, weight, bias, stride, padding, outputPadding,
                groups, dilation));
    }

    @Override
    protected String extraRepr() {
        return Conv2d.convRepr(inChannels, outChannels, kernelSize, stride, padding, dilation, outputPadding, groups,
                bias == null);
    }
}
