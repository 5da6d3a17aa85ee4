package dev.backprop.onnx;

import dev.backprop.nn.Activation;
import dev.backprop.nn.AdaptiveAvgPool2d;
import dev.backprop.nn.AvgPool2d;
import dev.backprop.nn.BatchNorm;
import dev.backprop.nn.Conv1d;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.GRU;
import dev.backprop.nn.LSTM;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.MultiheadAttention;
import dev.backprop.nn.RNN;
import dev.backprop.nn.RecurrentBase;
import dev.backprop.nn.Sequential;
import dev.backprop.nn.TransformerEncoder;
import dev.backprop.nn.TransformerDecoderLayer;
import dev.backprop.nn.TransformerEncoderLayer;
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
    static final String SUPPORTED = "Sequential, Linear, Conv1d, Conv2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, "
            + "BatchNorm1d, BatchNorm2d, Dropout, Flatten, Embedding, LayerNorm, RNN, LSTM, GRU, MultiheadAttention "
            + "(self-attention), TransformerEncoderLayer, TransformerEncoder (without masks), ReLU, LeakyReLU, ELU, GELU, SiLU, "
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
            case Conv1d c -> {
                requireBatched(c, 3);
                yield conv1d(c, x);
            }
            case MaxPool2d mp -> maxPool2d(mp, x);
            case AvgPool2d ap -> avgPool2d(ap, x);
            case AdaptiveAvgPool2d ap -> adaptiveAvgPool2d(ap, x);
            case BatchNorm bn -> batchNorm(bn, x);
            case Dropout d -> x; // the identity at inference
            case Flatten f -> flatten(f, x);
            case Embedding e -> embedding(e, x);
            case RecurrentBase r -> recurrent(r, x, inShape(m).length);
            case MultiheadAttention a -> multiheadAttention(a, x, inShape(m).length);
            case TransformerEncoderLayer l -> encoderLayer(l, x, inShape(m).length);
            case TransformerEncoder enc -> encoder(enc, x, inShape(m).length);
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

    /** Conv1d on (N, C, L): Conv with one spatial dimension. */
    String conv1d(Conv1d c, String x) {
        List<String> in = new ArrayList<>(List.of(x, param(key(c, "weight"), c.weight())));
        if (c.bias() != null) {
            in.add(param(key(c, "bias"), c.bias()));
        }
        return w.node(c.path(), "Conv", in, Attr.ints("kernel_shape", c.kernelSize()),
                Attr.ints("strides", c.stride()), Attr.ints("pads", c.padding(), c.padding()),
                Attr.ints("dilations", c.dilation()), Attr.i("group", c.groups()));
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
     * A recurrent layer (RNN, LSTM, GRU) on its input layout: (N, L, in) with batchFirst, (L, N,
     * in), or unbatched (L, in) when {@code inputRank} is 2; see {@link #recurrentTimeMajor}.
     */
    String recurrent(RecurrentBase rnn, String x, int inputRank) {
        String p = rnn.path();
        boolean batchFirst = rnn.options().batchFirst();
        String timeMajor = inputRank == 2 ? w.node(p, "Unsqueeze", List.of(x, w.constantLongs(p, 1)))
                : batchFirst ? w.node(p, "Transpose", List.of(x), Attr.ints("perm", 1, 0, 2)) : x;
        String y = recurrentTimeMajor(rnn, timeMajor);
        return inputRank == 2 ? w.node(p, "Squeeze", List.of(y, w.constantLongs(p, 1)))
                : batchFirst ? w.node(p, "Transpose", List.of(y), Attr.ints("perm", 1, 0, 2)) : y;
    }

    /**
     * The ONNX RNN, LSTM or GRU op for {@code rnn} on a time-major input (T, B, in): one node per
     * layer (both directions in one), from zero states. PyTorch's gate blocks are reordered to
     * ONNX's (LSTM i, f, g, o to i, o, f, c; GRU r, z, n to z, r, h, with linear_before_reset as
     * PyTorch computes n) and the two biases concatenated. Returns the top layer's output (T, B, D·H).
     */
    String recurrentTimeMajor(RecurrentBase rnn, String x) {
        int h = rnn.hiddenSize();
        int dirs = rnn.options().directions();
        Map<String, Tensor> state = rnn.stateDict();
        String p = rnn.path();
        String op;
        int[] order; // ONNX gate block j = PyTorch gate block order[j]
        List<Attr> attrs = new ArrayList<>(List.of(Attr.i("hidden_size", h),
                Attr.s("direction", dirs == 2 ? "bidirectional" : "forward")));
        switch (rnn) {
            case LSTM l -> {
                op = "LSTM";
                order = new int[] {0, 3, 1, 2};
            }
            case GRU g -> {
                op = "GRU";
                order = new int[] {1, 0, 2};
                attrs.add(Attr.i("linear_before_reset", 1));
            }
            case RNN r -> {
                op = "RNN";
                order = new int[] {0};
                String act = r.nonlinearity() == RNN.Nonlinearity.TANH ? "Tanh" : "Relu";
                attrs.add(dirs == 2 ? Attr.strings("activations", act, act) : Attr.strings("activations", act));
            }
        }
        String in = x;
        for (int layer = 0; layer < rnn.options().numLayers(); layer++) {
            List<Tensor> ws = new ArrayList<>();
            List<Tensor> rs = new ArrayList<>();
            List<Tensor> bs = new ArrayList<>();
            for (int dir = 0; dir < dirs; dir++) {
                String suffix = "_l" + layer + (dir == 1 ? "_reverse" : "");
                ws.add(gatesToOnnx(state.get("weight_ih" + suffix), h, order));
                rs.add(gatesToOnnx(state.get("weight_hh" + suffix), h, order));
                Tensor bih = state.get("bias_ih" + suffix);
                Tensor bhh = state.get("bias_hh" + suffix);
                bs.add(bih == null ? Tensor.zeros(2 * order.length * h)
                        : Tensor.cat(List.of(gatesToOnnx(bih, h, order), gatesToOnnx(bhh, h, order)), 0));
            }
            String prefix = (p.isEmpty() ? "" : p + ".") + "l" + layer;
            String wName = w.initializer(prefix + ".W", Tensor.stack(ws, 0)); // (D, G·H, in)
            String rName = w.initializer(prefix + ".R", Tensor.stack(rs, 0)); // (D, G·H, H)
            String bName = w.initializer(prefix + ".B", Tensor.stack(bs, 0)); // (D, 2·G·H)
            String y = w.node(prefix, op, List.of(in, wName, rName, bName), attrs.toArray(Attr[]::new)); // (T, D, B, H)
            if (dirs == 1) {
                in = w.node(prefix, "Squeeze", List.of(y, w.constantLongs(prefix, 1)));
            } else {
                String t = w.node(prefix, "Transpose", List.of(y), Attr.ints("perm", 0, 2, 1, 3)); // (T, B, D, H)
                in = w.node(prefix, "Reshape", List.of(t, w.constantLongs(prefix, 0, 0, 2L * h)));
            }
        }
        return in;
    }

    /** The gate blocks of {@code t} (rows, H each) in ONNX's order: block j is PyTorch's block order[j]. */
    private static Tensor gatesToOnnx(Tensor t, int h, int[] order) {
        Tensor c = t.detach();
        List<Tensor> blocks = new ArrayList<>();
        for (int j : order) {
            blocks.add(c.slice(0, j * h, (j + 1) * h));
        }
        return Tensor.cat(blocks, 0).contiguous();
    }

    // ------------------------------------------------------------------ attention

    /**
     * Multi-head attention from packed projections {@code qkv} (B, T, 3E): q, k, v split into
     * {@code heads} heads of {@code headDim}, softmax(q kᵀ / √headDim + mask) v with the heads
     * merged back, (B, T, E). {@code mask} is an additive value broadcast to (B, heads, T, T), or null.
     */
    String attentionHeads(String p, String qkv, int heads, int headDim, String mask) {
        String split = w.node(p, "Reshape", List.of(qkv, w.constantLongs(p, 0, 0, 3, heads, headDim)));
        String h = w.node(p, "Transpose", List.of(split), Attr.ints("perm", 2, 0, 3, 1, 4)); // (3, B, nH, T, hd)
        String q = w.node(p + ".q", "Gather", List.of(h, w.constantLong(p, 0)), Attr.i("axis", 0));
        String k = w.node(p + ".k", "Gather", List.of(h, w.constantLong(p, 1)), Attr.i("axis", 0));
        String v = w.node(p + ".v", "Gather", List.of(h, w.constantLong(p, 2)), Attr.i("axis", 0));
        return attend(p, q, k, v, heads, headDim, mask);
    }

    /** softmax(q kᵀ / √headDim + mask) v on heads (B, nH, T, hd), (B, nH, S, hd), merged to (B, T, E). */
    private String attend(String p, String q, String k, String v, int heads, int headDim, String mask) {
        String kT = w.node(p, "Transpose", List.of(k), Attr.ints("perm", 0, 1, 3, 2));
        String scores = w.node(p, "Mul", List.of(w.node(p, "MatMul", List.of(q, kT)),
                w.constantFloat(p, (float) (1.0 / Math.sqrt(headDim))))); // (B, nH, T, S)
        if (mask != null) {
            scores = w.node(p, "Add", List.of(scores, mask));
        }
        String att = w.node(p, "Softmax", List.of(scores), Attr.i("axis", -1));
        String y = w.node(p, "MatMul", List.of(att, v)); // (B, nH, T, hd)
        return w.node(p, "Reshape", List.of(w.node(p, "Transpose", List.of(y), Attr.ints("perm", 0, 2, 1, 3)),
                w.constantLongs(p, 0, 0, (long) heads * headDim))); // (B, T, E)
    }

    /** Self-attention {@code m(x, x, x)} on (B, T, E) (batch first) with an additive mask or none. */
    String selfAttention(MultiheadAttention m, String x, String mask) {
        requirePacked(m);
        String p = m.path();
        String qkv = w.node(p, "MatMul", List.of(x, transposedParam(param(key(m, "in_proj_weight"),
                m.inProjWeight()))));
        if (m.inProjBias() != null) {
            qkv = w.node(p, "Add", List.of(qkv, param(key(m, "in_proj_bias"), m.inProjBias())));
        }
        return linear(m.outProj(), attentionHeads(p, qkv, m.numHeads(), m.headDim(), mask), 3);
    }

    /**
     * Cross-attention {@code m(x, memory, memory)} on (B, T, E) and (B, S, E): q from the first E
     * rows of in_proj, k and v from the other 2E ({@code Slice}s of the one initializer).
     */
    String crossAttention(MultiheadAttention m, String x, String memory, String mask) {
        requirePacked(m);
        String p = m.path();
        int e = m.embedDim();
        String weight = param(key(m, "in_proj_weight"), m.inProjWeight());
        String bias = m.inProjBias() == null ? null : param(key(m, "in_proj_bias"), m.inProjBias());
        String axis0 = w.constantLongs(p, 0);
        String q = w.node(p, "MatMul", List.of(x, w.node(p, "Transpose", List.of(w.node(p, "Slice", List.of(weight,
                w.constantLongs(p, 0), w.constantLongs(p, e), axis0))), Attr.ints("perm", 1, 0))));
        String kv = w.node(p, "MatMul", List.of(memory, w.node(p, "Transpose", List.of(w.node(p, "Slice",
                List.of(weight, w.constantLongs(p, e), w.constantLongs(p, 3L * e), axis0))), Attr.ints("perm", 1, 0))));
        if (bias != null) {
            q = w.node(p, "Add", List.of(q, w.node(p, "Slice", List.of(bias, w.constantLongs(p, 0),
                    w.constantLongs(p, e), axis0))));
            kv = w.node(p, "Add", List.of(kv, w.node(p, "Slice", List.of(bias, w.constantLongs(p, e),
                    w.constantLongs(p, 3L * e), axis0))));
        }
        int nH = m.numHeads();
        int hd = m.headDim();
        String qh = w.node(p, "Transpose", List.of(w.node(p, "Reshape", List.of(q, w.constantLongs(p, 0, 0, nH, hd)))),
                Attr.ints("perm", 0, 2, 1, 3)); // (B, nH, T, hd)
        String kvh = w.node(p, "Transpose", List.of(w.node(p, "Reshape", List.of(kv,
                w.constantLongs(p, 0, 0, 2, nH, hd)))), Attr.ints("perm", 2, 0, 3, 1, 4)); // (2, B, nH, S, hd)
        String k = w.node(p + ".k", "Gather", List.of(kvh, w.constantLong(p, 0)), Attr.i("axis", 0));
        String v = w.node(p + ".v", "Gather", List.of(kvh, w.constantLong(p, 1)), Attr.i("axis", 0));
        return linear(m.outProj(), attend(p, qh, k, v, nH, hd, mask), 3);
    }

    private static void requirePacked(MultiheadAttention m) {
        if (m.inProjWeight() == null) {
            throw new UnsupportedOperationException("cannot export " + m.describe() + " to ONNX: it has separate "
                    + "q/k/v projections (kdim or vdim differ from embed_dim), which the exporter does not map");
        }
    }

    /** (S, N, E) (sequence first), (N, S, E) (batch first) or (S, E) to (N, S, E). */
    private String toBatchFirst(String p, String x, int rank, boolean batchFirst) {
        return rank == 2 ? w.node(p, "Unsqueeze", List.of(x, w.constantLongs(p, 0)))
                : batchFirst ? x : w.node(p, "Transpose", List.of(x), Attr.ints("perm", 1, 0, 2));
    }

    private String fromBatchFirst(String p, String x, int rank, boolean batchFirst) {
        return rank == 2 ? w.node(p, "Squeeze", List.of(x, w.constantLongs(p, 0)))
                : batchFirst ? x : w.node(p, "Transpose", List.of(x), Attr.ints("perm", 1, 0, 2));
    }

    /** MultiheadAttention's one-input forward: self-attention on its layout. */
    String multiheadAttention(MultiheadAttention m, String x, int rank) {
        String p = m.path();
        return fromBatchFirst(p, selfAttention(m, toBatchFirst(p, x, rank, m.batchFirst()), null), rank,
                m.batchFirst());
    }

    /** TransformerEncoderLayer without masks, post-norm or pre-norm, relu or exact gelu; dropout is the identity. */
    String encoderLayer(TransformerEncoderLayer l, String x, int rank) {
        String p = l.path();
        boolean batchFirst = l.options().batchFirst();
        return fromBatchFirst(p, encoderLayerBatchFirst(l, toBatchFirst(p, x, rank, batchFirst), null), rank,
                batchFirst);
    }

    /** TransformerEncoderLayer on (B, S, E) with an additive self-attention mask or none. */
    String encoderLayerBatchFirst(TransformerEncoderLayer l, String x, String mask) {
        String p = l.path();
        String h = x;
        if (l.options().normFirst()) {
            h = w.node(p, "Add", List.of(h, selfAttention(l.selfAttn(), layerNorm(l.norm1(), h), mask)));
            h = w.node(p, "Add", List.of(h, feedForward(p, l.options(), l.linear1(), l.linear2(),
                    layerNorm(l.norm2(), h))));
        } else {
            h = layerNorm(l.norm1(), w.node(p, "Add", List.of(h, selfAttention(l.selfAttn(), h, mask))));
            h = layerNorm(l.norm2(), w.node(p, "Add", List.of(h, feedForward(p, l.options(), l.linear1(),
                    l.linear2(), h))));
        }
        return h;
    }

    /**
     * TransformerDecoderLayer on (B, T, E) with memory (B, S, E): self-attention with
     * {@code selfMask}, cross-attention with {@code memoryMask} (additive values or null).
     */
    String decoderLayerBatchFirst(TransformerDecoderLayer l, String x, String memory, String selfMask,
            String memoryMask) {
        String p = l.path();
        String h = x;
        if (l.options().normFirst()) {
            h = w.node(p, "Add", List.of(h, selfAttention(l.selfAttn(), layerNorm(l.norm1(), h), selfMask)));
            h = w.node(p, "Add", List.of(h, crossAttention(l.multiheadAttn(), layerNorm(l.norm2(), h), memory,
                    memoryMask)));
            h = w.node(p, "Add", List.of(h, feedForward(p, l.options(), l.linear1(), l.linear2(),
                    layerNorm(l.norm3(), h))));
        } else {
            h = layerNorm(l.norm1(), w.node(p, "Add", List.of(h, selfAttention(l.selfAttn(), h, selfMask))));
            h = layerNorm(l.norm2(), w.node(p, "Add", List.of(h, crossAttention(l.multiheadAttn(), h, memory,
                    memoryMask))));
            h = layerNorm(l.norm3(), w.node(p, "Add", List.of(h, feedForward(p, l.options(), l.linear1(),
                    l.linear2(), h))));
        }
        return h;
    }

    private String feedForward(String p, TransformerEncoderLayer.Options o, Linear linear1, Linear linear2, String x) {
        String hidden = linear(linear1, x, 3);
        String act = "gelu".equals(o.activation()) ? gelu(p + ".activation", hidden, false)
                : w.node(p + ".activation", "Relu", List.of(hidden));
        return linear(linear2, act, 3);
    }

    /** TransformerEncoder without masks: its layers, then its final norm if it has one. */
    String encoder(TransformerEncoder e, String x, int rank) {
        String h = x;
        for (int i = 0; i < e.numLayers(); i++) {
            h = encoderLayer(e.layer(i), h, rank);
        }
        return e.norm() == null ? h : layerNorm(e.norm(), h);
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
