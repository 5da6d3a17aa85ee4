package dev.backprop.nn;

import dev.backprop.ops.Pool;
import dev.backprop.tensor.Tensor;

/**
 * 2-D average pooling over (N, C, H, W) or (C, H, W), PyTorch's {@code nn.AvgPool2d}: the stride
 * defaults to the kernel size; with {@code countIncludePad} (the default) zero padding counts in
 * each window's divisor, and a positive {@code divisorOverride} replaces the divisor.
 */
public final class AvgPool2d extends Module {
    private final int[] kernelSize; // {h, w}
    private final int[] stride; // {h, w}
    private final int[] padding; // {h, w}
    private final boolean ceilMode;
    private final boolean countIncludePad;
    private final int divisorOverride; // 0: none

    /** Stride = kernel size, no padding. */
    public AvgPool2d(int kernelSize) {
        this(kernelSize, kernelSize);
    }

    public AvgPool2d(int kernelSize, int stride) {
        this(kernelSize, stride, 0);
    }

    public AvgPool2d(int kernelSize, int stride, int padding) {
        this(kernelSize, stride, padding, false, true);
    }

    public AvgPool2d(int kernelSize, int stride, int padding, boolean ceilMode, boolean countIncludePad) {
        this(new int[] {kernelSize}, new int[] {stride}, new int[] {padding}, ceilMode, countIncludePad, 0);
    }

    /**
     * The general form: each size is {h, w} or one value for both; a null stride means the kernel
     * size; {@code divisorOverride} 0 means none.
     */
    public AvgPool2d(int[] kernelSize, int[] stride, int[] padding, boolean ceilMode, boolean countIncludePad,
            int divisorOverride) {
        this.kernelSize = ConvNd.pair(kernelSize, "kernel_size");
        this.stride = stride == null ? this.kernelSize.clone() : ConvNd.pair(stride, "stride");
        this.padding = ConvNd.pair(padding, "padding");
        this.ceilMode = ceilMode;
        this.countIncludePad = countIncludePad;
        this.divisorOverride = divisorOverride;
        for (int i = 0; i < 2; i++) {
            if (this.kernelSize[i] < 1 || this.stride[i] < 1 || this.padding[i] < 0
                    || this.padding[i] > this.kernelSize[i] / 2 || divisorOverride < 0) {
                throw new IllegalArgumentException(typeName() + ": need kernel_size >= 1, stride >= 1, "
                        + "0 <= padding <= kernel_size / 2 and divisor_override >= 0; got " + extraRepr()
                        + (divisorOverride != 0 ? ", divisor_override=" + divisorOverride : ""));
            }
        }
    }

    @Override
    protected Tensor compute(Tensor input) {
        checkInput(input.dim() == 3 || input.dim() == 4, ConvNd.expected(0, -1, "H, W"), input);
        return ConvNd.reported(this, () -> Pool.avgPool2d(input, kernelSize, stride, padding, ceilMode,
                countIncludePad, divisorOverride));
    }

    /** {h, w}. */
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

    public boolean ceilMode() {
        return ceilMode;
    }

    public boolean countIncludePad() {
        return countIncludePad;
    }

    /** The divisor replacing the window size, or 0 for none. */
    public int divisorOverride() {
        return divisorOverride;
    }

    @Override
    protected String extraRepr() {
        return "kernel_size=" + ConvNd.size(kernelSize) + ", stride=" + ConvNd.size(stride) + ", padding="
                + ConvNd.size(padding);
    }
}
