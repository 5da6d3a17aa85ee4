package dev.backprop.nn;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Supplier;

/**
 * What the convolution layers share, as PyTorch's {@code _ConvNd}: the {@code weight} and
 * {@code bias} parameters with PyTorch's default initialisation ({@link Init#linearDefault}), and
 * the argument checks and reprs that the pooling layers use too.
 */
public abstract sealed class ConvNd extends Module permits Conv1d, Conv2d, ConvTranspose2d {
    final int inChannels;
    final int outChannels;
    final int groups;
    private final Tensor weight;
    private final Tensor bias; // (out) or null

    /** Registers {@code weight} of {@code weightShape} and, if {@code bias}, a bias of {@code out}; draws both from {@code gen}. */
    ConvNd(int inChannels, int outChannels, int groups, int[] weightShape, boolean bias, Generator gen) {
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.groups = groups;
        Tensor w = Tensor.zeros(weightShape);
        Tensor b = bias ? Tensor.zeros(outChannels) : null;
        Init.linearDefault(w, b, gen);
        this.weight = registerParameter("weight", w);
        this.bias = registerParameter("bias", b);
    }

    /** Draws the parameters again with PyTorch's default initialisation, from the default generator. */
    public void resetParameters() {
        Init.linearDefault(weight, bias, Generator.defaultGenerator());
    }

    /** The kernel. */
    public Tensor weight() {
        return weight;
    }

    /** The bias, (out), or null when built without one. */
    public Tensor bias() {
        return bias;
    }

    public int inChannels() {
        return inChannels;
    }

    public int outChannels() {
        return outChannels;
    }

    /** The number of blocked connections from input to output channels. */
    public int groups() {
        return groups;
    }

    static void checkSettings(String layer, int in, int out, int groups, int[] kernel, int[] stride, int[] padding,
            int[] dilation) {
        if (in < 1 || out < 1 || groups < 1) {
            throw new IllegalArgumentException(layer + ": in_channels, out_channels and groups must be positive, got "
                    + in + ", " + out + ", groups " + groups);
        }
        if (in % groups != 0 || out % groups != 0) {
            throw new IllegalArgumentException(layer + ": in_channels " + in + " and out_channels " + out
                    + " must both be divisible by groups " + groups);
        }
        for (int i = 0; i < kernel.length; i++) {
            if (kernel[i] < 1 || stride[i] < 1 || padding[i] < 0 || dilation[i] < 1) {
                throw new IllegalArgumentException(layer + ": need kernel_size >= 1, stride >= 1, padding >= 0, "
                        + "dilation >= 1; got kernel_size " + tuple(kernel) + ", stride " + tuple(stride)
                        + ", padding " + tuple(padding) + ", dilation " + tuple(dilation));
            }
        }
    }

    /** {h, w} from one value (both) or two. */
    static int[] pair(int[] v, String what) {
        if (v == null || v.length < 1 || v.length > 2) {
            throw new IllegalArgumentException(what + " needs one value or two (h, w), got "
                    + (v == null ? "null" : Arrays.toString(v)));
        }
        return v.length == 1 ? new int[] {v[0], v[0]} : v.clone();
    }

    /** What a layer over {@code spatial} dims with {@code channels} input channels accepts, for the given rank. */
    static String expected(int rank, int channels, String spatial) {
        int spatialDims = spatial.split(",").length;
        String c = channels < 0 ? "C" : String.valueOf(channels);
        if (rank == spatialDims + 2) {
            return "(N, " + c + ", " + spatial + ")";
        }
        if (rank == spatialDims + 1) {
            return "(" + c + ", " + spatial + ")";
        }
        return "(N, " + c + ", " + spatial + ") or (" + c + ", " + spatial + ")";
    }

    /** Runs an op for {@code layer}; an argument error from the op is reported with the layer's path. */
    static Tensor reported(Module layer, Supplier<Tensor> op) {
        try {
            return op.get();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(layer.describe() + ": " + e.getMessage(), e);
        }
    }

    /** PyTorch's tuple repr: {@code (3, 3)}, {@code (3,)}. */
    static String tuple(int... v) {
        if (v.length == 1) {
            return "(" + v[0] + ",)";
        }
        StringBuilder sb = new StringBuilder("(");
        for (int i = 0; i < v.length; i++) {
            sb.append(i == 0 ? "" : ", ").append(v[i]);
        }
        return sb.append(')').toString();
    }

    /** PyTorch's repr of a pooling size: the int when square, else the tuple. */
    static String size(int[] v) {
        return v[0] == v[1] ? String.valueOf(v[0]) : tuple(v);
    }

    /** PyTorch's {@code _ConvNd.extra_repr}: settings at their defaults are left out (stride always shown). */
    static String convRepr(int in, int out, int[] kernel, int[] stride, int[] padding, int[] dilation,
            int[] outputPadding, int groups, boolean noBias) {
        StringBuilder s = new StringBuilder();
        s.append(in).append(", ").append(out).append(", kernel_size=").append(tuple(kernel)).append(", stride=")
                .append(tuple(stride));
        if (Arrays.stream(padding).anyMatch(p -> p != 0)) {
            s.append(", padding=").append(tuple(padding));
        }
        if (Arrays.stream(dilation).anyMatch(d -> d != 1)) {
            s.append(", dilation=").append(tuple(dilation));
        }
        if (outputPadding != null && Arrays.stream(outputPadding).anyMatch(p -> p != 0)) {
            s.append(", output_padding=").append(tuple(outputPadding));
        }
        if (groups != 1) {
            s.append(", groups=").append(groups);
        }
        if (noBias) {
            s.append(", bias=False");
        }
        return s.toString();
    }
}
