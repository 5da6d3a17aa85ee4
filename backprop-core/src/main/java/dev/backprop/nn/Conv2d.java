package dev.backprop.nn;

import dev.backprop.ops.Conv;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Supplier;

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
public final class Conv2d extends Module {
    private final int inChannels;
    private final int outChannels;
    private final int[] kernelSize; // {kH, kW}
    private final int[] stride; // {h, w}
    private final int[] padding; // {h, w}
    private final int[] dilation; // {h, w}
    private final int groups;
    private final Tensor weight; // (out, in/groups, kH, kW)
    private final Tensor bias; // (out) or null

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
        this.inChannels = inChannels;
        this.outChannels = outChannels;
        this.kernelSize = pair(kernelSize, "kernel_size");
        this.stride = pair(stride, "stride");
        this.padding = pair(padding, "padding");
        this.dilation = pair(dilation, "dilation");
        this.groups = groups;
        checkSettings(typeName(), inChannels, outChannels, groups, this.kernelSize, this.stride, this.padding,
                this.dilation);
        Tensor w = Tensor.zeros(outChannels, inChannels / groups, this.kernelSize[0], this.kernelSize[1]);
        Tensor b = bias ? Tensor.zeros(outChannels) : null;
        initParameters(w, b, gen);
        this.weight = registerParameter("weight", w);
        this.bias = registerParameter("bias", b);
    }

    /** Draws the parameters again with PyTorch's default initialisation, from the default generator. */
    public void resetParameters() {
        initParameters(weight, bias, Generator.defaultGenerator());
    }

    /** The kernel, (out, in/groups, kH, kW). */
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
        checkInput(ok, expected(input.dim(), inChannels, "H, W"), input);
        return reported(this, () -> Conv.conv2d(input, weight, bias, stride, padding, dilation, groups));
    }

    @Override
    protected String extraRepr() {
        return convRepr(inChannels, outChannels, kernelSize, stride, padding, dilation, null, groups, bias == null);
    }

    // ------------------------------------------------------------------ shared by the convolution and pooling layers

    /**
     * PyTorch's {@code _ConvNd.reset_parameters}: kaiming uniform with a = sqrt(5) for the weight
     * (bound 1/sqrt(fan_in)), U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for the bias, fan_in from the
     * weight's shape (for transposed convolutions that is out/groups · prod(kernel), as in PyTorch).
     */
    static void initParameters(Tensor weight, Tensor bias, Generator gen) {
        Init.kaimingUniform(weight, Math.sqrt(5), Init.FanMode.FAN_IN, Init.Nonlinearity.LEAKY_RELU, gen);
        if (bias != null) {
            int fanIn = Init.fans(weight)[0];
            double bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
            Init.uniform(bias, -bound, bound, gen);
        }
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
