package dev.backprop.nn;

import dev.backprop.ops.Pool;
import dev.backprop.tensor.Tensor;

/**
 * 2-D max pooling over (N, C, H, W) or (C, H, W), PyTorch's {@code nn.MaxPool2d}: the stride
 * defaults to the kernel size, padding is -inf, the gradient goes to the first maximum of each
 * window.
 */
public final class MaxPool2d extends Module {
    private final int[] kernelSize; // {h, w}
    private final int[] stride; // {h, w}
    private final int[] padding; // {h, w}
    private final int[] dilation; // {h, w}
    private final boolean ceilMode;

    /** Stride = kernel size, no padding ({@code nn.MaxPool2d(2)} halves H and W). */
    public MaxPool2d(int kernelSize) {
        this(kernelSize, kernelSize);
    }

    public MaxPool2d(int kernelSize, int stride) {
        this(kernelSize, stride, 0);
    }

    public MaxPool2d(int kernelSize, int stride, int padding) {
        this(kernelSize, stride, padding, 1, false);
    }

    public MaxPool2d(int kernelSize, int stride, int padding, int dilation, boolean ceilMode) {
        this(new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, new int[] {dilation}, ceilMode);
    }

    /** The general form: each size is {h, w} or one value for both; a null stride means the kernel size. */
    public MaxPool2d(int[] kernelSize, int[] stride, int[] padding, int[] dilation, boolean ceilMode) {
        this.kernelSize = ConvNd.pair(kernelSize, "kernel_size");
        this.stride = stride == null ? this.kernelSize.clone() : ConvNd.pair(stride, "stride");
        this.padding = ConvNd.pair(padding, "padding");
        this.dilation = ConvNd.pair(dilation, "dilation");
        this.ceilMode = ceilMode;
        for (int i = 0; i < 2; i++) {
            if (this.kernelSize[i] < 1 || this.stride[i] < 1 || this.dilation[i] < 1 || this.padding[i] < 0
                    || this.padding[i] > this.kernelSize[i] / 2) {
                throw new IllegalArgumentException(typeName() + ": need kernel_size >= 1, stride >= 1, dilation >= 1 "
                        + "and 0 <= padding <= kernel_size / 2; got " + extraRepr());
            }
        }
    }

    @Override
    protected Tensor compute(Tensor input) {
        checkInput(input.dim() == 3 || input.dim() == 4, ConvNd.expected(0, -1, "H, W"), input);
        return ConvNd.reported(this, () -> Pool.maxPool2d(input, kernelSize, stride, padding, dilation, ceilMode));
    }

    /** {h, w}. */
    public int[] kernelSize() {
        return kernelSize.clone();
    }

    /** {h, w}. */
    public int[] stride() {
        return stride.clone();
    }

    /** -inf padding on each side, {h, w}. */
    public int[] padding() {
        return padding.clone();
    }

    /** {h, w}. */
    public int[] dilation() {
        return dilation.clone();
    }

    public boolean ceilMode() {
        return ceilMode;
    }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + ConvNd.size(kernelSize) + ", stride=" + ConvNd.size(stride) + ", padding="
                + ConvNd.size(padding) + ", dilation=" + ConvNd.size(dilation) + ", ceil_mode="
                + (ceilMode ? "True" : "False");
    }
}
