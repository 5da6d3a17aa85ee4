package dev.backprop.onnx;

import dev.backprop.nn.Activation;
import dev.backprop.nn.AdaptiveAvgPool2d;
import dev.backprop.nn.AvgPool2d;
import dev.backprop.nn.BatchNorm;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.LSTM;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.onnx.OnnxWriter.Attr;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

/**
 * Emits the ONNX nodes of backprop's layers into an {@link OnnxWriter}: one method per layer
 * type, each taking the name of its input value and returning the name of its output. Weights
 * become initializers named by their state-dict keys ({@code features.0.weight}); a tensor used
 * twice (a tied head) is written once.
 *
 * <p>{@link #module} walks a tree of one-input layers ({@link Sequential} and the layers below),
 * using the input and output shapes each layer had in a sample forward ({@link OnnxExporter}
 * records them) where the ONNX op needs them. A layer it has no mapping for is an
 * {@link UnsupportedOperationException} naming the layer's path and type.
 */
final class LayerEmitter {
    /** The layer types {@link #module} maps, for messages. */
    static final String SUPPORTED = "Sequential, Linear, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, "
            + "BatchNorm1d, BatchNorm2d, Dropout, Flatten, Embedding, LayerNorm, ReLU, LeakyReLU, ELU, GELU, SiLU, "
            + "Sigmoid, Tanh, Softplus, Softmax, LogSoftmax, Identity";

    final OnnxWriter w;
    private final Map<Tensor, String> initializers = new IdentityHashMap<>();
    private final Map<String, String> transposed = new HashMap<>();
    private final Map<Module, int[][]> shapes; // module -> {input shape, output shape} of the sample forward

    LayerEmitter(OnnxWriter w, Map<Module, int[][]> shapes) {
        this.w = w;
        this.shapes = shapes;
    }

    // ------------------------------------------------------------------ weights

    /** The initializer holding {@code t}, named {@code key}, added on first use. */
    String param(String key, Tensor t) {
        String name = initializers.get(t);
        if (name == null) {
            name = w.initializer(key, t.detach());
            initializers.put(t, name);
        }
        return name;
    }

    /** The state-dict key of {@code m}'s tensor {@code name}. */
    static String key(Module m, String name) {
        return m.path().isEmpty() ? name : m.path() + "." + name;
    }

    /** A Transpose node of the 2-D initializer {@code name} (ONNX Runtime folds it when loading). */
    String transposedParam(String name) {
        return transposed.computeIfAbsent(name, n -> w.node(n, "Transpose", List.of(n), Attr.ints("perm", 1, 0)));
    }

    // ------------------------------------------------------------------ the walk over one-input layers

    /** The ONNX nodes of {@code m} applied to {@code x}; returns the output value. */
    String module(Module m, String x) {
        String p = m.path();
        return switch (m) {
            case Sequential s -> {
                String h = x;
                for (int i = 0; i < s.size(); i++) {
                    h = module(s.get(i), h);
                }
                yield h;
            }
            case Linear l -> linear(l, x, inShape(m).length);
            case Conv2d c -> conv2d(c, x);
            case MaxPool2d mp -> maxPool2d(mp, x);
            case AvgPool2d ap -> avgPool2d(ap, x);
            case AdaptiveAvgPool2d ap -> adaptiveAvgPool2d(ap, x);
            case BatchNorm bn -> batchNorm(bn, x);
            case Dropout d -> x; // the identity at inference
            case Flatten f -> flatten(f, x);
            case Embedding e -> embedding(e, x);
            case LayerNorm ln -> layerNorm(ln, x);
            case Activation a -> activation(a, x);
            default -> throw unsupported(m, p.isEmpty() ? "the model" : "layer " + p);
        };
    }

    static UnsupportedOperationException unsupported(Module m, String where) {
        return new UnsupportedOperationException("cannot export " + where + " (" + m.typeName() + ") to ONNX: no "
                + "mapping for " + m.typeName() + ". The exporter maps the models GPT and CharLSTM and trees of "
                + SUPPORTED + "; a custom module's own forward cannot be translated (rebuild it from these layers)");
    }

    private int[] inShape(Module m) {
        int[][] s = shapes.get(m);
        if (s == null) {
            throw new IllegalStateException(m.describe() + " was not run by the sample forward of the export (is it "
                    + "registered but not called?)");
        }
        return s[0];
    }

    private int[] outShape(Module m) {
        inShape(m);
        return shapes.get(m)[1];
    }

    // ------------------------------------------------------------------ layers

    /** Linear: Gemm (transB) on a matrix, else MatMul with the transposed weight and Add of the bias. */
    String linear(Linear l, String x, int inputRank) {
        String wName = param(key(l, "weight"), l.weight());
        String hint = l.path();
        if (inputRank == 2) {
            List<String> in = new ArrayList<>(List.of(x, wName));
            if (l.bias() != null) {
                in.add(param(key(l, "bias"), l.bias()));
            }
            return w.node(hint, "Gemm", in, Attr.i("transB", 1));
        }
        String y = w.node(hint, "MatMul", List.of(x, transposedParam(wName)));
        return l.bias() == null ? y : w.node(hint, "Add", List.of(y, param(key(l, "bias"), l.bias())));
    }

    String conv2d(Conv2d c, String x) {
        requireBatched(c, 4);
        List<String> in = new ArrayList<>(List.of(x, param(key(c, "weight"), c.weight())));
        if (c.bias() != null) {
            in.add(param(key(c, "bias"), c.bias()));
        }
        int[] k = c.kernelSize();
        int[] s = c.stride();
        int[] pad = c.padding();
        int[] d = c.dilation();
        return w.node(c.path(), "Conv", in, Attr.ints("kernel_shape", k[0], k[1]), Attr.ints("strides", s[0], s[1]),
                Attr.ints("pads", pad[0], pad[1], pad[0], pad[1]), Attr.ints("dilations", d[0], d[1]),
                Attr.i("group", c.groups()));
    }

    String maxPool2d(MaxPool2d m, String x) {
        requireBatched(m, 4);
        int[] k = m.kernelSize();
        int[] s = m.stride();
        int[] pad = m.padding();
        int[] d = m.dilation();
        if (m.ceilMode()) {
            checkCeilShape(m, k, s, pad, d);
        }
        return w.node(m.path(), "MaxPool", List.of(x), Attr.ints("kernel_shape", k[0], k[1]),
                Attr.ints("strides", s[0], s[1]), Attr.ints("pads", pad[0], pad[1], pad[0], pad[1]),
                Attr.ints("dilations", d[0], d[1]), Attr.i("ceil_mode", m.ceilMode() ? 1 : 0));
    }

    /** ONNX's ceil-mode size has no PyTorch rule "the last window starts inside the input": export only where they agree. */
    private void checkCeilShape(Module m, int[] k, int[] s, int[] pad, int[] d) {
        int[] in = inShape(m);
        int[] out = outShape(m);
        for (int i = 0; i < 2; i++) {
            int onnx = (int) Math.ceil((in[2 + i] + 2.0 * pad[i] - (d[i] * (k[i] - 1) + 1)) / s[i]) + 1;
            if (onnx != out[2 + i]) {
                throw new UnsupportedOperationException("cannot export " + m.describe() + " to ONNX: with ceil_mode "
                        + "on input " + Shape.str(in) + " ONNX gives size " + onnx + " where PyTorch's rule gives "
                        + out[2 + i] + "; use ceil_mode=False or an input size where the last window starts inside "
                        + "the input");
            }
        }
    }

    String avgPool2d(AvgPool2d a, String x) {
        requireBatched(a, 4);
        if (a.divisorOverride() != 0 || a.ceilMode()) {
            throw new UnsupportedOperationException("cannot export " + a.describe() + " to ONNX: "
                    + (a.ceilMode() ? "ceil_mode" : "divisor_override") + " has no AveragePool equivalent that "
                    + "matches PyTorch on every window; export the layer without it");
        }
        int[] k = a.kernelSize();
        int[] s = a.stride();
        int[] pad = a.padding();
        return w.node(a.path(), "AveragePool", List.of(x), Attr.ints("kernel_shape", k[0], k[1]),
                Attr.ints("strides", s[0], s[1]), Attr.ints("pads", pad[0], pad[1], pad[0], pad[1]),
                Attr.i("count_include_pad", a.countIncludePad() ? 1 : 0));
    }

    /** GlobalAveragePool for (1, 1); AveragePool when the output size divides the input size; else unsupported. */
    String adaptiveAvgPool2d(AdaptiveAvgPool2d a, String x) {
        requireBatched(a, 4);
        int[] in = inShape(a);
        int[] out = a.outputSize();
        if (out[0] == 1 && out[1] == 1) {
            return w.node(a.path(), "GlobalAveragePool", List.of(x));
        }
        if (in[2] % out[0] != 0 || in[3] % out[1] != 0) {
            throw new UnsupportedOperationException("cannot export " + a.describe() + " to ONNX: its windows on input "
                    + Shape.str(in) + " to output " + Shape.str(out) + " are not all of one size (ONNX has no "
                    + "adaptive pooling); use an input whose H and W are multiples of the output size");
        }
        int kh = in[2] / out[0];
        int kw = in[3] / out[1];
        return w.node(a.path(), "AveragePool", List.of(x), Attr.ints("kernel_shape", kh, kw),
                Attr.ints("strides", kh, kw));
    }

    /** BatchNormalization with the running statistics (inference); affine=False writes weight 1, bias 0. */
    String batchNorm(BatchNorm bn, String x) {
        if (bn.runningMean() == null) {
            throw new UnsupportedOperationException("cannot export " + bn.describe() + " to ONNX: it was built with "
                    + "track_running_stats=False, so at inference it normalises with each batch's own statistics, "
                    + "which BatchNormalization (inference) does not do");
        }
        int c = bn.numFeatures();
        String scale = bn.weight() != null ? param(key(bn, "weight"), bn.weight())
                : w.initializer(key(bn, "weight"), Tensor.ones(c));
        String bias = bn.bias() != null ? param(key(bn, "bias"), bn.bias())
                : w.initializer(key(bn, "bias"), Tensor.zeros(c));
        return w.node(bn.path(), "BatchNormalization", List.of(x, scale, bias,
                param(key(bn, "running_mean"), bn.runningMean()), param(key(bn, "running_var"), bn.runningVar())),
                Attr.f("epsilon", bn.eps()));
    }

    /** Reshape to the flattened shape, keeping the symbolic batch dimension (0 = copy it) unless it is flattened too. */
    String flatten(Flatten f, String x) {
        int[] out = outShape(f);
        int[] in = inShape(f);
        long[] target = new long[out.length];
        for (int i = 0; i < out.length; i++) {
            target[i] = out[i];
        }
        int start = f.startDim() < 0 ? f.startDim() + in.length : f.startDim();
        target[0] = start == 0 ? -1 : 0;
        return w.node(f.path(), "Reshape", List.of(x, w.constantLongs(f.path(), target)));
    }

    String embedding(Embedding e, String idx) {
        return w.node(e.path(), "Gather", List.of(param(key(e, "weight"), e.weight()), idx), Attr.i("axis", 0));
    }

    /** LayerNormalization (opset 17) over the trailing normalized dimensions. */
    String layerNorm(LayerNorm ln, String x) {
        int[] shape = ln.normalizedShape();
        String scale = ln.weight() != null ? param(key(ln, "weight"), ln.weight())
                : w.initializer(key(ln, "weight"), Tensor.ones(shape));
        String bias = ln.bias() != null ? param(key(ln, "bias"), ln.bias())
                : w.initializer(key(ln, "bias"), Tensor.zeros(shape));
        return w.node(ln.path(), "LayerNormalization", List.of(x, scale, bias), Attr.i("axis", -shape.length),
                Attr.f("epsilon", ln.eps()));
    }

    String activation(Activation a, String x) {
        String p = a.path();
        return switch (a) {
            case Activation.ReLU r -> w.node(p, "Relu", List.of(x));
            case Activation.LeakyReLU r -> w.node(p, "LeakyRelu", List.of(x), Attr.f("alpha", r.negativeSlope()));
            case Activation.ELU e -> w.node(p, "Elu", List.of(x), Attr.f("alpha", e.alpha()));
            case Activation.GELU g -> gelu(p, x, g.tanhApproximation());
            case Activation.SiLU s -> w.node(p, "Mul", List.of(x, w.node(p, "Sigmoid", List.of(x))));
            case Activation.Sigmoid s -> w.node(p, "Sigmoid", List.of(x));
            case Activation.Tanh t -> w.node(p, "Tanh", List.of(x));
            case Activation.Softplus s -> softplus(p, x, s.beta(), s.threshold());
            case Activation.Softmax s -> w.node(p, "Softmax", List.of(x), Attr.i("axis", s.dim()));
            case Activation.LogSoftmax s -> w.node(p, "LogSoftmax", List.of(x), Attr.i("axis", s.dim()));
            case Activation.Identity i -> w.node(p, "Identity", List.of(x));
            default -> throw unsupported(a, "layer " + p);
        };
    }

    /** GELU from Erf (exact) or Tanh (approximation): opset 17 has no Gelu op. */
    String gelu(String p, String x, boolean tanhApproximation) {
        String inner;
        if (tanhApproximation) { // tanh(sqrt(2/pi) (x + 0.044715 x^3))
            String x3 = w.node(p, "Mul", List.of(x, w.node(p, "Mul", List.of(x, x))));
            String sum = w.node(p, "Add", List.of(x, w.node(p, "Mul", List.of(x3, w.constantFloat(p, 0.044715f)))));
            inner = w.node(p, "Tanh", List.of(w.node(p, "Mul",
                    List.of(sum, w.constantFloat(p, (float) Math.sqrt(2 / Math.PI))))));
        } else { // erf(x / sqrt(2))
            inner = w.node(p, "Erf", List.of(w.node(p, "Mul", List.of(x, w.constantFloat(p, (float) (1 / Math.sqrt(2)))))));
        }
        String onePlus = w.node(p, "Add", List.of(inner, w.constantFloat(p, 1f)));
        return w.node(p, "Mul", List.of(w.node(p, "Mul", List.of(x, w.constantFloat(p, 0.5f))), onePlus));
    }

    /** PyTorch's softplus: log(1 + exp(beta x)) / beta, and x itself where beta x > threshold. */
    private String softplus(String p, String x, float beta, float threshold) {
        String bx = w.node(p, "Mul", List.of(x, w.constantFloat(p, beta)));
        String soft = w.node(p, "Div", List.of(w.node(p, "Softplus", List.of(bx)), w.constantFloat(p, beta)));
        String linear = w.node(p, "Greater", List.of(bx, w.constantFloat(p, threshold)));
        return w.node(p, "Where", List.of(linear, x, soft));
    }

    /**
     * The ONNX LSTM op for {@code lstm} on a time-major input (T, B, in): one node per layer (both
     * directions in one), PyTorch's gates i, f, g, o reordered to ONNX's i, o, f, c and the two
     * biases concatenated. Returns the top layer's output (T, B, D·H).
     */
    String lstm(LSTM lstm, String x) {
        int h = lstm.hiddenSize();
        int dirs = lstm.options().directions();
        Map<String, Tensor> state = lstm.stateDict();
        String p = lstm.path();
        String in = x;
        for (int layer = 0; layer < lstm.options().numLayers(); layer++) {
            List<Tensor> ws = new ArrayList<>();
            List<Tensor> rs = new ArrayList<>();
            List<Tensor> bs = new ArrayList<>();
            for (int dir = 0; dir < dirs; dir++) {
                String suffix = "_l" + layer + (dir == 1 ? "_reverse" : "");
                ws.add(gatesToOnnx(state.get("weight_ih" + suffix), h));
                rs.add(gatesToOnnx(state.get("weight_hh" + suffix), h));
                Tensor bih = state.get("bias_ih" + suffix);
                Tensor bhh = state.get("bias_hh" + suffix);
                bs.add(bih == null ? Tensor.zeros(8 * h)
                        : Tensor.cat(List.of(gatesToOnnx(bih, h), gatesToOnnx(bhh, h)), 0));
            }
            String prefix = (p.isEmpty() ? "" : p + ".") + "l" + layer;
            String wName = w.initializer(prefix + ".W", Tensor.stack(ws, 0)); // (D, 4H, in)
            String rName = w.initializer(prefix + ".R", Tensor.stack(rs, 0)); // (D, 4H, H)
            String bName = w.initializer(prefix + ".B", Tensor.stack(bs, 0)); // (D, 8H)
            String y = w.node(prefix, "LSTM", List.of(in, wName, rName, bName), Attr.i("hidden_size", h),
                    Attr.s("direction", dirs == 2 ? "bidirectional" : "forward")); // Y: (T, D, B, H)
            if (dirs == 1) {
                in = w.node(prefix, "Squeeze", List.of(y, w.constantLongs(prefix, 1)));
            } else {
                String t = w.node(prefix, "Transpose", List.of(y), Attr.ints("perm", 0, 2, 1, 3)); // (T, B, D, H)
                in = w.node(prefix, "Reshape", List.of(t, w.constantLongs(prefix, 0, 0, 2L * h)));
            }
        }
        return in;
    }

    /** Rows in PyTorch's gate blocks i, f, g, o to ONNX's i, o, f, c (= g). */
    private static Tensor gatesToOnnx(Tensor t, int h) {
        Tensor c = t.detach();
        return Tensor.cat(List.of(c.slice(0, 0, h), c.slice(0, 3 * h, 4 * h), c.slice(0, h, 2 * h),
                c.slice(0, 2 * h, 3 * h)), 0).contiguous();
    }

    private void requireBatched(Module m, int rank) {
        int[] in = inShape(m);
        if (in.length != rank) {
            throw new UnsupportedOperationException("cannot export " + m.describe() + " to ONNX on input "
                    + Shape.str(in) + ": the exported graph takes batched input of rank " + rank
                    + " (N first); give the export an input shape without the batch dimension");
        }
    }
}
