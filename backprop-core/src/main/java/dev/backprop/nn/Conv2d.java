package dev.backprop.nn;

import dev.backprop.ops.Conv;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;

/**
 * 2-D convolution over (N, C, H, W) or (C, H, W) inputs, PyTorch's {@code nn.Conv2d}: parameters
 * {@code weight} (out, in/groups, kH, kW) and {@code bias} (out), zero padding, PyTorch's default
 * initialisation (kaiming uniform with a = sqrt(5), so U(±1/sqrt(fan_in)), for both).
 *
 * <pre>{@code
 * Conv2d conv = new Conv2d(1, 32, 3, 1, 1);   // in, out, kernel_size, stride, padding
 * Tensor y = conv.forward(x);                 // (64, 1, 28, 28) -> (64, 32, 28, 28)
 * }</pre>
 */
public final class Conv2d extends ConvNd {
    private final int[] kernelSize; // {kH, kW}
    private final int[] stride; // {h, w}
    private final int[] padding; // {h, w}
    private final int[] dilation; // {h, w}

    /** Stride 1, no padding, with bias. */
    public Conv2d(int inChannels, int outChannels, int kernelSize) {
        this(inChannels, outChannels, kernelSize, 1, 0);
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding) {
        this(inChannels, outChannels, kernelSize, stride, padding, 1, 1, true);
    }

    public Conv2d(int inChannels, int outChannels, int kernelSize, int stride, int padding, int dilation, int groups,
            boolean bias) {
        this(inChannels, outChannels, new int[] {kernelSize}, new int[] {stride}, new int[] {padding},
                new int[] {dilation}, groups, bias, Generator.defaultGenerator());
    }

    /**
     * The general form: {@code kernelSize}, {@code stride}, {@code padding}, {@code dilation} are
     * {h, w} or one value for both; the parameters are drawn from {@code gen}.
     */
    public Conv2d(int inChannels, int outChannels, int[] kernelSize, int[] stride, int[] padding, int[] dilation,
            int groups, boolean bias, Generator gen) {
        int[] kernelSizePair = pair(kernelSize, "kernel_size");
        this.kernelSize = kernelSizePair;
        int[] stridePair = pair(stride, "stride");
        this.stride = stridePair;
        int[] paddingPair = pair(padding, "padding");
        this.padding = paddingPair;
        int[] dilationPair = pair(dilation, "dilation");
        this.dilation = dilationPair;
        checkSettings("Conv2d", inChannels, outChannels, groups, kernelSizePair, stridePair, paddingPair,
                dilationPair);
        super(inChannels, outChannels, groups,
                new int[] {outChannels, inChannels / groups, kernelSizePair[0], kernelSizePair[1]}, bias, gen);
    }

    @Override
    protected Tensor compute(Tensor input) {
        boolean ok = input.dim() == 4 && input.size(1) == inChannels || input.dim() == 3 && input.size(0) == inChannels;
        checkInput(ok, expected(input.dim(), inChannels, "H, W"), input);
        return reported(this, () -> Conv.conv2d(input, weight(), bias(), stride, padding, dilation, groups));
    }

    /** {kH, kW}. */
    public int[] kernelSize() {
        return kernelSize.clone();
    }

    /** {h, w}. */
    public int[] stride() {
        return stride.clone();
    }

    /** Zero padding on each side, {h, w}. */
    public int[] padding() {
        return padding.clone();
    }

    /** {h, w}. */
    public int[] dilation() {
        return dilation.clone();
    }

    @Override
    protected String extraRepr() {
        return convRepr(inChannels, outChannels, kernelSize, stride, padding, dilation, null, groups, bias() == null);
    }
}
