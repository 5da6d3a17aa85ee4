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
public final class ConvTranspose2d extends ConvNd {
    private final int[] kernelSize; // {kH, kW}
    private final int[] stride; // {h, w}
    private final int[] padding; // {h, w}
    private final int[] outputPadding; // {h, w}
    private final int[] dilation; // {h, w}

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
        int[] kernelSizePair = pair(kernelSize, "kernel_size");
        this.kernelSize = kernelSizePair;
        int[] stridePair = pair(stride, "stride");
        this.stride = stridePair;
        int[] paddingPair = pair(padding, "padding");
        this.padding = paddingPair;
        int[] outputPaddingPair = pair(outputPadding, "output_padding");
        this.outputPadding = outputPaddingPair;
        int[] dilationPair = pair(dilation, "dilation");
        this.dilation = dilationPair;
        checkSettings("ConvTranspose2d", inChannels, outChannels, groups, kernelSizePair, stridePair, paddingPair,
                dilationPair);
        for (int i = 0; i < 2; i++) {
            if (outputPaddingPair[i] < 0 || outputPaddingPair[i] >= Math.max(stridePair[i], dilationPair[i])) {
                throw new IllegalArgumentException("ConvTranspose2d: output_padding " + tuple(outputPaddingPair)
                        + " must be >= 0 and smaller than either the stride " + tuple(stridePair)
                        + " or the dilation " + tuple(dilationPair));
            }
        }
        super(inChannels, outChannels, groups,
                new int[] {inChannels, outChannels / groups, kernelSizePair[0], kernelSizePair[1]}, bias, gen);
    }

    @Override
    protected Tensor compute(Tensor input) {
        boolean ok = input.dim() == 4 && input.size(1) == inChannels || input.dim() == 3 && input.size(0) == inChannels;
        checkInput(ok, expected(input.dim(), inChannels, "H, W"), input);
        return reported(this, () -> Conv.convTranspose2d(input, weight(), bias(), stride, padding, outputPadding,
                groups, dilation));
    }

    @Override
    protected String extraRepr() {
        return convRepr(inChannels, outChannels, kernelSize, stride, padding, dilation, outputPadding, groups,
                bias() == null);
    }
}
