package dev.backprop.nn;

import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * One Transformer encoder block, as {@code torch.nn.TransformerEncoderLayer}: self-attention and a
 * feed-forward network, each with a residual connection and layer norm.
 * <pre>
 *   post-norm (default):  x = norm1(x + sa(x));        x = norm2(x + ff(x))
 *   pre-norm (normFirst): x = x + sa(norm1(x));        x = x + ff(norm2(x))
 *   sa(x) = dropout1(self_attn(x, x, x))                ff(x) = dropout2(linear2(dropout(act(linear1(x)))))
 * </pre>
 * Sub-modules and state-dict keys are PyTorch's: {@code self_attn}, {@code linear1}, {@code dropout},
 * {@code linear2}, {@code norm1}, {@code norm2}, {@code dropout1}, {@code dropout2}. As in PyTorch,
 * inputs are (S, N, E) unless {@code batchFirst}.
 */
public class TransformerEncoderLayer extends Module {

    /**
     * Options of the encoder and decoder layers with PyTorch's defaults: dim_feedforward 2048,
     * dropout 0.1, activation "relu" (or "gelu", exact), layer_norm_eps 1e-5, batch_first false,
     * norm_first false, bias true.
     */
    public record Options(int dimFeedforward, float dropout, String activation, float layerNormEps,
            boolean batchFirst, boolean normFirst, boolean bias) {
        public Options {
            if (dimFeedforward <= 0) {
                throw new IllegalArgumentException("Transformer layer: dimFeedforward must be positive, got "
                        + dimFeedforward);
            }
            if (!(dropout >= 0 && dropout <= 1)) {
                throw new IllegalArgumentException("Transformer layer: dropout must be in [0, 1], got " + dropout);
            }
            activationFunction(activation); // validates the name
        }

        public static Options defaults() {
            return new Options(2048, 0.1f, "relu", 1e-5f, false, false, true);
        }

        public Options withDimFeedforward(int size) {
            return new Options(size, dropout, activation, layerNormEps, batchFirst, normFirst, bias);
        }

        public Options withDropout(float p) {
            return new Options(dimFeedforward, p, activation, layerNormEps, batchFirst, normFirst, bias);
        }

        /** "relu" or "gelu" (exact GELU, PyTorch's {@code F.gelu}). */
        public Options withActivation(String name) {
            return new Options(dimFeedforward, dropout, name, layerNormEps, batchFirst, normFirst, bias);
        }

        public Options withLayerNormEps(float eps) {
            return new Options(dimFeedforward, dropout, activation, eps, batchFirst, normFirst, bias);
        }

        public Options withBatchFirst(boolean on) {
            return new Options(dimFeedforward, dropout, activation, layerNormEps, on, normFirst, bias);
        }

        public Options withNormFirst(boolean on) {
            return new Options(dimFeedforward, dropout, activation, layerNormEps, batchFirst, on, bias);
        }

        public Options withBias(boolean on) {
            return new Options(dimFeedforward, dropout, activation, layerNormEps, batchFirst, normFirst, on);
        }
    }

    static UnaryOperator<Tensor> activationFunction(String name) {
        return switch (name == null ? "" : name) {
            case "relu" -> Tensor::relu;
            case "gelu" -> Tensor::gelu;
            default -> throw new IllegalArgumentException("Transformer layer: activation should be \"relu\" or "
                    + "\"gelu\", not " + (name == null ? "null" : "\"" + name + "\""));
        };
    }

    private final int dModel;
    private final Options options;
    private final UnaryOperator<Tensor> activation;
    private final MultiheadAttention selfAttn;
    private final Linear linear1; // dModel -> dimFeedforward
    private final Dropout dropout;
    private final Linear linear2; // dimFeedforward -> dModel
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final Dropout dropout1;
    private final Dropout dropout2;

    /** PyTorch's defaults (dim_feedforward 2048, dropout 0.1, relu, post-norm, sequence first). */
    public TransformerEncoderLayer(int dModel, int nhead) {
        this(dModel, nhead, Options.defaults());
    }

    public TransformerEncoderLayer(int dModel, int nhead, Options options) {
        this.dModel = dModel;
        this.options = options;
        this.activation = activationFunction(options.activation());
        // registration order is PyTorch's, so state-dict keys come in the same order
        selfAttn = registerModule("self_attn", new MultiheadAttention(dModel, nhead, MultiheadAttention.Options
                .defaults().withDropout(options.dropout()).withBias(options.bias())
                .withBatchFirst(options.batchFirst())));
        linear1 = registerModule("linear1", new Linear(dModel, options.dimFeedforward(), options.bias()));
        dropout = registerModule("dropout", new Dropout(options.dropout()));
        linear2 = registerModule("linear2", new Linear(options.dimFeedforward(), dModel, options.bias()));
        norm1 = registerModule("norm1", layerNorm(dModel, options));
        norm2 = registerModule("norm2", layerNorm(dModel, options));
        dropout1 = registerModule("dropout1", new Dropout(options.dropout()));
        dropout2 = registerModule("dropout2", new Dropout(options.dropout()));
    }

    static LayerNorm layerNorm(int dModel, Options options) {
        return new LayerNorm(new int[] {dModel}, options.layerNormEps(), true, options.bias());
    }

    /** The layer without masks. */
    @Override
    protected Tensor compute(Tensor src) {
        return encode(src, null, null, false);
    }

    /**
     * @param src (S, N, E), or (N, S, E) with batchFirst, or unbatched (S, E)
     * @param srcMask attention mask (S, S) or (N·nhead, S, S), bool true = not allowed or float added; or null
     * @param srcKeyPaddingMask (N, S) bool true = padding, or float added; or null
     * @param isCausal with no srcMask, attend causally (see {@link MultiheadAttention#forward})
     */
    public Tensor forward(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask, boolean isCausal) {
        return traced(src, () -> encode(src, srcMask, srcKeyPaddingMask, isCausal));
    }

    private Tensor encode(Tensor src, Tensor srcMask, Tensor srcKeyPaddingMask, boolean isCausal) {
        checkModelInput(this, "src", src, dModel, options.batchFirst());
        Tensor x = src;
        if (options.normFirst()) {
            x = x.add(selfAttentionBlock(norm1.forward(x), srcMask, srcKeyPaddingMask, isCausal));
            x = x.add(feedForwardBlock(norm2.forward(x)));
        } else {
            x = norm1.forward(x.add(selfAttentionBlock(x, srcMask, srcKeyPaddingMask, isCausal)));
            x = norm2.forward(x.add(feedForwardBlock(x)));
        }
        return x;
    }

    private Tensor selfAttentionBlock(Tensor x, Tensor mask, Tensor keyPaddingMask, boolean isCausal) {
        return dropout1.forward(selfAttn.forward(x, x, x, keyPaddingMask, mask, false, true, isCausal).output());
    }

    private Tensor feedForwardBlock(Tensor x) {
        return dropout2.forward(linear2.forward(dropout.forward(activation.apply(linear1.forward(x)))));
    }

    /** (S, N, E) / (N, S, E) / (S, E) with E = dModel, or an error naming the layer. */
    static void checkModelInput(Module layer, String what, Tensor t, int dModel, boolean batchFirst) {
        if (!((t.dim() == 3 || t.dim() == 2) && t.size(-1) == dModel)) {
            throw new IllegalArgumentException(layer.describe() + ": expected " + what + " "
                    + (batchFirst ? "(N, S, " + dModel + ") with batchFirst" : "(S, N, " + dModel
                    + ") (batchFirst=false: sequence first)") + " or unbatched (S, " + dModel + "), got "
                    + Shape.str(t.shape()));
        }
    }

    public MultiheadAttention selfAttn() {
        return selfAttn;
    }

    public Linear linear1() {
        return linear1;
    }

    public Linear linear2() {
        return linear2;
    }

    public LayerNorm norm1() {
        return norm1;
    }

    public LayerNorm norm2() {
        return norm2;
    }

    public int dModel() {
        return dModel;
    }

    public Options options() {
        return options;
    }

    @Override
    protected String extraRepr() {
        return "d_model=" + dModel + ", nhead=" + selfAttn.numHeads() + ", dim_feedforward="
                + options.dimFeedforward() + ", dropout=" + options.dropout() + ", activation="
                + options.activation() + ", norm_first=" + options.normFirst() + ", batch_first="
                + options.batchFirst();
    }
}
