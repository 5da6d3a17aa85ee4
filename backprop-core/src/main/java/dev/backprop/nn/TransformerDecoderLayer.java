package dev.backprop.nn;

import dev.backprop.tensor.Tensor;
import java.util.function.UnaryOperator;

/**
 * One Transformer decoder block, as {@code torch.nn.TransformerDecoderLayer}: self-attention over
 * the target, cross-attention over the encoder's memory and a feed-forward network, each with a
 * residual connection and layer norm.
 * <pre>
 *   post-norm (default):  x = norm1(x + sa(x));  x = norm2(x + mha(x, mem));  x = norm3(x + ff(x))
 *   pre-norm (normFirst): x = x + sa(norm1(x));  x = x + mha(norm2(x), mem);  x = x + ff(norm3(x))
 *   sa(x) = dropout1(self_attn(x, x, x))   mha(x, m) = dropout2(multihead_attn(x, m, m))
 *   ff(x) = dropout3(linear2(dropout(act(linear1(x)))))
 * </pre>
 * Sub-modules and state-dict keys are PyTorch's: {@code self_attn}, {@code multihead_attn},
 * {@code linear1}, {@code dropout}, {@code linear2}, {@code norm1..3}, {@code dropout1..3}. The
 * options are the encoder layer's ({@link TransformerEncoderLayer.Options}).
 */
public class TransformerDecoderLayer extends Module {
    private final int dModel;
    private final TransformerEncoderLayer.Options options;
    private final UnaryOperator<Tensor> activation;
    private final MultiheadAttention selfAttn;
    private final MultiheadAttention multiheadAttn;
    private final Linear linear1; // dModel -> dimFeedforward
    private final Dropout dropout;
    private final Linear linear2; // dimFeedforward -> dModel
    private final LayerNorm norm1;
    private final LayerNorm norm2;
    private final LayerNorm norm3;
    private final Dropout dropout1;
    private final Dropout dropout2;
    private final Dropout dropout3;

    /** PyTorch's defaults (dim_feedforward 2048, dropout 0.1, relu, post-norm, sequence first). */
    public TransformerDecoderLayer(int dModel, int nhead) {
        this(dModel, nhead, TransformerEncoderLayer.Options.defaults());
    }

    public TransformerDecoderLayer(int dModel, int nhead, TransformerEncoderLayer.Options options) {
        this.dModel = dModel;
        this.options = options;
        this.activation = TransformerEncoderLayer.activationFunction(options.activation());
        MultiheadAttention.Options attention = MultiheadAttention.Options.defaults().withDropout(options.dropout())
                .withBias(options.bias()).withBatchFirst(options.batchFirst());
        // registration order is PyTorch's, so state-dict keys come in the same order
        selfAttn = registerModule("self_attn", new MultiheadAttention(dModel, nhead, attention));
        multiheadAttn = registerModule("multihead_attn", new MultiheadAttention(dModel, nhead, attention));
        linear1 = registerModule("linear1", new Linear(dModel, options.dimFeedforward(), options.bias()));
        dropout = registerModule("dropout", new Dropout(options.dropout()));
        linear2 = registerModule("linear2", new Linear(options.dimFeedforward(), dModel, options.bias()));
        norm1 = registerModule("norm1", TransformerEncoderLayer.layerNorm(dModel, options));
        norm2 = registerModule("norm2", TransformerEncoderLayer.layerNorm(dModel, options));
        norm3 = registerModule("norm3", TransformerEncoderLayer.layerNorm(dModel, options));
        dropout1 = registerModule("dropout1", new Dropout(options.dropout()));
        dropout2 = registerModule("dropout2", new Dropout(options.dropout()));
        dropout3 = registerModule("dropout3", new Dropout(options.dropout()));
    }

    /** The layer without masks. */
    public Tensor forward(Tensor tgt, Tensor memory) {
        return forward(tgt, memory, null, null, null, null, false);
    }

    /**
     * @param tgt (T, N, E), or (N, T, E) with batchFirst, or unbatched (T, E)
     * @param memory (S, N, E), or (N, S, E) with batchFirst, or unbatched (S, E): the encoder's output
     * @param tgtMask self-attention mask (T, T) or (N·nhead, T, T), bool true = not allowed or float added; or null
     * @param memoryMask cross-attention mask (T, S) or (N·nhead, T, S); or null
     * @param tgtKeyPaddingMask (N, T) bool true = padding, or float added; or null
     * @param memoryKeyPaddingMask (N, S) likewise; or null
     * @param tgtIsCausal with no tgtMask, self-attention is causal (see {@link MultiheadAttention#forward})
     *     (PyTorch's {@code memory_is_causal} hint is left out: pass a memoryMask instead)
     */
    public Tensor forward(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask,
            Tensor memoryKeyPaddingMask, boolean tgtIsCausal) {
        return traced(tgt, () -> decode(tgt, memory, tgtMask, memoryMask, tgtKeyPaddingMask, memoryKeyPaddingMask,
                tgtIsCausal));
    }

    private Tensor decode(Tensor tgt, Tensor memory, Tensor tgtMask, Tensor memoryMask, Tensor tgtKeyPaddingMask,
            Tensor memoryKeyPaddingMask, boolean tgtIsCausal) {
        TransformerEncoderLayer.checkModelInput(this, "tgt", tgt, dModel, options.batchFirst());
        TransformerEncoderLayer.checkModelInput(this, "memory", memory, dModel, options.batchFirst());
        Tensor x = tgt;
        if (options.normFirst()) {
            x = x.add(selfAttentionBlock(norm1.forward(x), tgtMask, tgtKeyPaddingMask, tgtIsCausal));
            x = x.add(crossAttentionBlock(norm2.forward(x), memory, memoryMask, memoryKeyPaddingMask));
            x = x.add(feedForwardBlock(norm3.forward(x)));
        } else {
            x = norm1.forward(x.add(selfAttentionBlock(x, tgtMask, tgtKeyPaddingMask, tgtIsCausal)));
            x = norm2.forward(x.add(crossAttentionBlock(x, memory, memoryMask, memoryKeyPaddingMask)));
            x = norm3.forward(x.add(feedForwardBlock(x)));
        }
        return x;
    }

    private Tensor selfAttentionBlock(Tensor x, Tensor mask, Tensor keyPaddingMask, boolean isCausal) {
        return dropout1.forward(selfAttn.forward(x, x, x, keyPaddingMask, mask, false, true, isCausal).output());
    }

    private Tensor crossAttentionBlock(Tensor x, Tensor memory, Tensor mask, Tensor keyPaddingMask) {
        return dropout2.forward(multiheadAttn.forward(x, memory, memory, keyPaddingMask, mask, false, true, false)
                .output());
    }

    private Tensor feedForwardBlock(Tensor x) {
        return dropout3.forward(linear2.forward(dropout.forward(activation.apply(linear1.forward(x)))));
    }

    public MultiheadAttention selfAttn() {
        return selfAttn;
    }

    public MultiheadAttention multiheadAttn() {
        return multiheadAttn;
    }

    /** The feed-forward input layer (dModel → dimFeedforward). */
    public Linear linear1() {
        return linear1;
    }

    /** The feed-forward output layer (dimFeedforward → dModel). */
    public Linear linear2() {
        return linear2;
    }

    /** The norm before (normFirst) or after self-attention. */
    public LayerNorm norm1() {
        return norm1;
    }

    /** The norm before (normFirst) or after cross-attention. */
    public LayerNorm norm2() {
        return norm2;
    }

    /** The norm before (normFirst) or after the feed-forward network. */
    public LayerNorm norm3() {
        return norm3;
    }

    public int dModel() {
        return dModel;
    }

    public TransformerEncoderLayer.Options options() {
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
