package dev.backprop.nn;

import dev.backprop.ops.Attention;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Multi-head scaled dot-product attention, as {@code torch.nn.MultiheadAttention}:
 * <pre>
 *   q, k, v = query W_qᵀ + b_q, key W_kᵀ + b_k, value W_vᵀ + b_v      (W_q;W_k;W_v = in_proj_weight)
 *   head_i  = softmax(q_i k_iᵀ / √head_dim + mask) v_i                 (per head, head_dim = E / numHeads)
 *   out     = concat(head_1 … head_H) W_oᵀ + b_o                       (out_proj)
 * </pre>
 * Parameters and state-dict keys are PyTorch's: {@code in_proj_weight} (3E, E), {@code in_proj_bias}
 * (3E), {@code out_proj.weight} (E, E), {@code out_proj.bias} (E). When {@code kdim} or {@code vdim}
 * differ from E, PyTorch's separate {@code q_proj_weight} (E, E), {@code k_proj_weight} (E, kdim) and
 * {@code v_proj_weight} (E, vdim) replace {@code in_proj_weight}. Initialisation is PyTorch's: Xavier
 * uniform projections, zero biases, out_proj.weight as {@link Linear}'s default.
 *
 * <p>Layout: {@code batchFirst = false} is PyTorch's default, so inputs are (L, N, E) unless the
 * options say otherwise; unbatched (L, E) inputs are accepted as well. Masks follow PyTorch: a bool
 * (or uint8) mask is true where attention is <em>not</em> allowed, a float mask is added to the
 * scores. A query row whose keys are all masked gives NaN, exactly as PyTorch does.
 *
 * <p>The whole layer is composed of differentiable ops, so its gradient comes from autograd. When
 * the attention weights are not asked for and no dropout applies, the heads go through the fused
 * {@link dev.backprop.ops.Attention} op (scores, masks, softmax and the product with v in one op,
 * q, k, v read in place); otherwise through separate ops (batched matmul, masked fill, softmax,
 * dropout), which expose the weights. With query, key and value the same tensor the three
 * projections are one matmul (PyTorch's self-attention path, same numbers).
 *
 * <p>Not supported: {@code add_bias_kv} and {@code add_zero_attn} (rarely used; PyTorch's own
 * fast paths exclude them too).
 */
public class MultiheadAttention extends Module {

    /**
     * Constructor options, PyTorch's defaults first: no dropout on the attention weights, biases on,
     * sequence-first layout (batchFirst false), kdim = vdim = embedDim (0 means "embedDim").
     */
    public record Options(float dropout, boolean bias, boolean batchFirst, int kdim, int vdim) {
        public Options {
            if (!(dropout >= 0 && dropout <= 1)) {
                throw new IllegalArgumentException("MultiheadAttention: dropout must be in [0, 1], got " + dropout);
            }
            if (kdim < 0 || vdim < 0) {
                throw new IllegalArgumentException("MultiheadAttention: kdim and vdim must be positive (0 = embedDim), "
                        + "got kdim=" + kdim + ", vdim=" + vdim);
            }
        }

        public static Options defaults() {
            return new Options(0f, true, false, 0, 0);
        }

        public Options withDropout(float p) {
            return new Options(p, bias, batchFirst, kdim, vdim);
        }

        public Options withBias(boolean on) {
            return new Options(dropout, on, batchFirst, kdim, vdim);
        }

        public Options withBatchFirst(boolean on) {
            return new Options(dropout, bias, on, kdim, vdim);
        }

        /** Feature sizes of key and value when they differ from embedDim (cross-attention on other features). */
        public Options withKdimVdim(int keyDim, int valueDim) {
            return new Options(dropout, bias, batchFirst, keyDim, valueDim);
        }
    }

    /** The attention output and, when asked for, the attention weights (null otherwise). */
    public record Result(Tensor output, Tensor weights) {}

    private final int embedDim;
    private final int numHeads;
    private final int headDim;
    private final int kdim;
    private final int vdim;
    private final float dropout;
    private final boolean batchFirst;
    private final Tensor inProjWeight; // (3E, E), or null when kdim/vdim differ from E
    private final Tensor qProjWeight; // (E, E), only when kdim/vdim differ from E
    private final Tensor kProjWeight; // (E, kdim), likewise
    private final Tensor vProjWeight; // (E, vdim), likewise
    private final Tensor inProjBias; // (3E), or null without bias
    private final Linear outProj; // E -> E

    public MultiheadAttention(int embedDim, int numHeads) {
        this(embedDim, numHeads, Options.defaults());
    }

    /** Shorthand for the two options most often set. */
    public MultiheadAttention(int embedDim, int numHeads, float dropout, boolean batchFirst) {
        this(embedDim, numHeads, Options.defaults().withDropout(dropout).withBatchFirst(batchFirst));
    }

    public MultiheadAttention(int embedDim, int numHeads, Options options) {
        if (embedDim <= 0 || numHeads <= 0) {
            throw new IllegalArgumentException("MultiheadAttention: embedDim and numHeads must be positive, got "
                    + "embedDim=" + embedDim + ", numHeads=" + numHeads);
        }
        if (embedDim % numHeads != 0) {
            throw new IllegalArgumentException("MultiheadAttention: embedDim " + embedDim
                    + " must be divisible by numHeads " + numHeads + " (each head gets embedDim / numHeads features)");
        }
        this.embedDim = embedDim;
        this.numHeads = numHeads;
        this.headDim = embedDim / numHeads;
        this.kdim = options.kdim() == 0 ? embedDim : options.kdim();
        this.vdim = options.vdim() == 0 ? embedDim : options.vdim();
        this.dropout = options.dropout();
        this.batchFirst = options.batchFirst();
        boolean sameDims = kdim == embedDim && vdim == embedDim;
        // registration order is PyTorch's, so state-dict keys come in the same order
        if (sameDims) {
            inProjWeight = registerParameter("in_proj_weight", Tensor.zeros(3 * embedDim, embedDim));
            qProjWeight = registerParameter("q_proj_weight", null);
            kProjWeight = registerParameter("k_proj_weight", null);
            vProjWeight = registerParameter("v_proj_weight", null);
        } else {
            qProjWeight = registerParameter("q_proj_weight", Tensor.zeros(embedDim, embedDim));
            kProjWeight = registerParameter("k_proj_weight", Tensor.zeros(embedDim, kdim));
            vProjWeight = registerParameter("v_proj_weight", Tensor.zeros(embedDim, vdim));
            inProjWeight = registerParameter("in_proj_weight", null);
        }
        inProjBias = registerParameter("in_proj_bias", options.bias() ? Tensor.zeros(3 * embedDim) : null);
        outProj = registerModule("out_proj", new Linear(embedDim, embedDim, options.bias()));
        resetParameters();
    }

    /** PyTorch's initialisation: Xavier uniform projections, zero biases (out_proj.weight keeps Linear's). */
    public void resetParameters() {
        if (inProjWeight != null) {
            Init.xavierUniform(inProjWeight);
        } else {
            Init.xavierUniform(qProjWeight);
            Init.xavierUniform(kProjWeight);
            Init.xavierUniform(vProjWeight);
        }
        if (inProjBias != null) {
            Init.zeros(inProjBias);
            Init.zeros(outProj.bias());
        }
    }

    /**
     * Self-attention without masks: {@code forward(x, x, x, null, null, false, true, false).output()}.
     */
    @Override
    protected Tensor compute(Tensor x) {
        return attend(x, x, x, null, null, false, true, false).output();
    }

    /** PyTorch's defaults: no masks, weights returned and averaged over heads. */
    public Result forward(Tensor query, Tensor key, Tensor value) {
        return forward(query, key, value, null, null, true, true, false);
    }

    /**
     * Attention of {@code query} over {@code key}/{@code value}.
     *
     * @param query (N, L, E) with batchFirst, else (L, N, E); or unbatched (L, E)
     * @param key (N, S, kdim) / (S, N, kdim) / (S, kdim)
     * @param value (N, S, vdim) / (S, N, vdim) / (S, vdim)
     * @param keyPaddingMask (N, S) (or (S) unbatched), bool/uint8 true = ignore that key, or float added to
     *     the scores; null for none
     * @param attnMask (L, S) or (N·numHeads, L, S), bool/uint8 true = not allowed, or float added to the
     *     scores; null for none
     * @param needWeights whether to return the attention weights (after dropout, as PyTorch)
     * @param averageAttnWeights weights averaged over heads, (N, L, S); else per head (N, numHeads, L, S)
     * @param isCausal with no attnMask: apply the causal mask (query i sees keys 0..i). With an attnMask
     *     it is only a hint that the mask is causal, as in PyTorch (which instead refuses isCausal
     *     without a mask)
     */
    public Result forward(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, Tensor attnMask,
            boolean needWeights, boolean averageAttnWeights, boolean isCausal) {
        Tensor[] weights = new Tensor[1];
        Tensor out = traced(query, () -> {
            Result r = attend(query, key, value, keyPaddingMask, attnMask, needWeights, averageAttnWeights, isCausal);
            weights[0] = r.weights();
            return r.output();
        });
        return new Result(out, weights[0]);
    }

    /**
     * The causal mask for self-attention over {@code size} positions: bool (size, size), true above
     * the diagonal (position i may not attend to j > i). PyTorch's
     * {@code Transformer.generate_square_subsequent_mask} is the float form of the same mask.
     */
    public static Tensor causalMask(int size) {
        return causalMask(size, size);
    }

    /** The causal mask of {@code targetLength} queries over {@code sourceLength} keys: true where j > i. */
    public static Tensor causalMask(int targetLength, int sourceLength) {
        boolean[] m = new boolean[targetLength * sourceLength];
        for (int i = 0; i < targetLength; i++) {
            for (int j = i + 1; j < sourceLength; j++) {
                m[i * sourceLength + j] = true;
            }
        }
        return Tensor.ofBools(m, targetLength, sourceLength);
    }

    // ------------------------------------------------------------------ the computation

    private Result attend(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask, Tensor attnMask,
            boolean needWeights, boolean averageAttnWeights, boolean isCausal) {
        boolean selfAttention = query == key && key == value;
        boolean sharedKeyValue = key == value;
        if (query.dim() == 2) {
            checkUnbatched(query, key, value, keyPaddingMask);
            int b = batchFirst ? 0 : 1;
            Tensor q = query.unsqueeze(b);
            Tensor k = selfAttention ? q : key.unsqueeze(b);
            Tensor v = sharedKeyValue ? k : value.unsqueeze(b);
            Result r = attend(q, k, v, keyPaddingMask == null ? null : keyPaddingMask.unsqueeze(0), attnMask,
                    needWeights, averageAttnWeights, isCausal);
            return new Result(r.output().squeeze(b), r.weights() == null ? null : r.weights().squeeze(0));
        }
        int batchDim = batchFirst ? 0 : 1;
        int seqDim = batchFirst ? 1 : 0;
        check(query.dim() == 3 && query.size(2) == embedDim, "query", layout("L", embedDim), query);
        int n = query.size(batchDim);
        int l = query.size(seqDim);
        check(key.dim() == 3 && key.size(batchDim) == n && key.size(2) == kdim, "key",
                layout("S", kdim) + " with N = " + n + " as in the query", key);
        int s = key.size(seqDim);
        check(value.dim() == 3 && value.size(batchDim) == n && value.size(seqDim) == s && value.size(2) == vdim,
                "value", layout("S", vdim) + " with N = " + n + ", S = " + s + " as in the key", value);
        if (keyPaddingMask != null) {
            checkMask(keyPaddingMask.dim() == 2 && keyPaddingMask.size(0) == n && keyPaddingMask.size(1) == s,
                    "keyPaddingMask", "(N, S) = (" + n + ", " + s + ")", keyPaddingMask);
        }
        if (attnMask != null) {
            boolean ok = attnMask.dim() == 2 && attnMask.size(0) == l && attnMask.size(1) == s
                    || attnMask.dim() == 3 && attnMask.size(0) == n * numHeads && attnMask.size(1) == l
                    && attnMask.size(2) == s;
            checkMask(ok, "attnMask", "(L, S) = (" + l + ", " + s + ") or (N·numHeads, L, S) = (" + n * numHeads
                    + ", " + l + ", " + s + ")", attnMask);
        }
        boolean causalOnly = attnMask == null && isCausal;
        Tensor[] qkv = project(query, key, value, selfAttention, sharedKeyValue);
        Tensor q = splitHeads(qkv[0], n, l); // (N, H, L, hd), views where the layout allows
        Tensor k = splitHeads(qkv[1], n, s); // (N, H, S, hd)
        Tensor v = splitHeads(qkv[2], n, s); // (N, H, S, hd)
        Tensor headMask = attnMask == null ? null : attnMask.dim() == 3 ? attnMask.reshape(n, numHeads, l, s)
                : attnMask;
        Tensor paddingMask = keyPaddingMask == null ? null : keyPaddingMask.reshape(n, 1, 1, s);
        Tensor context;
        Tensor attn = null;
        if (dropout == 0 || !isTraining()) {
            // one fused op, q, k, v read in place; its output is stored in q's memory order, so
            // merging the heads back is a view for batchFirst. The weights, when asked for, are
            // computed apart, so the output does not depend on needWeights.
            java.util.List<Attention.Mask> masks = new java.util.ArrayList<>(2);
            if (headMask != null) {
                masks.add(fusedMask(headMask));
            }
            if (paddingMask != null) {
                masks.add(fusedMask(paddingMask));
            }
            context = Attention.apply(q, k, v, causalOnly, 1 / Math.sqrt(headDim), masks.toArray(new Attention.Mask[0]));
            if (needWeights) {
                attn = weights(q, k, causalOnly ? causalMask(l, s) : headMask, paddingMask);
            }
        } else {
            attn = weights(q, k, causalOnly ? causalMask(l, s) : headMask, paddingMask);
            attn = F.dropout(attn, dropout, isTraining(), Generator.defaultGenerator());
            context = attn.matmul(v); // (N, H, L, hd)
        }
        // F.linear rather than outProj.forward: PyTorch calls the functional too (no out_proj hooks)
        Tensor out = F.linear(merge(context, n, l), outProj.weight(), outProj.bias());
        Tensor weights = !needWeights ? null : averageAttnWeights ? attn.mean(1, false) : attn;
        return new Result(out, weights);
    }

    /** softmax(q kᵀ / √headDim + masks) as separate ops: the attention weights (N, H, L, S). */
    private Tensor weights(Tensor q, Tensor k, Tensor attnMask, Tensor paddingMask) {
        Tensor scores = q.mul((float) (1 / Math.sqrt(headDim))).matmul(k.transpose(-2, -1)); // (N, H, L, S)
        if (attnMask != null) {
            scores = applyMask(scores, attnMask);
        }
        if (paddingMask != null) {
            scores = applyMask(scores, paddingMask);
        }
        return scores.softmax(-1);
    }

    /** q (…, E), k (…, E), v (…, E): one matmul for self-attention, two when key is value, else three. */
    private Tensor[] project(Tensor query, Tensor key, Tensor value, boolean selfAttention, boolean sharedKeyValue) {
        int e = embedDim;
        if (inProjWeight == null) {
            return new Tensor[] {
                F.linear(query, qProjWeight, biasSlice(0, e)),
                F.linear(key, kProjWeight, biasSlice(e, 2 * e)),
                F.linear(value, vProjWeight, biasSlice(2 * e, 3 * e))};
        }
        if (selfAttention) {
            Tensor qkv = F.linear(query, inProjWeight, inProjBias); // (…, 3E)
            return new Tensor[] {qkv.slice(-1, 0, e), qkv.slice(-1, e, 2 * e), qkv.slice(-1, 2 * e, 3 * e)};
        }
        Tensor q = F.linear(query, inProjWeight.slice(0, 0, e), biasSlice(0, e));
        if (sharedKeyValue) {
            Tensor kv = F.linear(key, inProjWeight.slice(0, e, 3 * e), biasSlice(e, 3 * e)); // (…, 2E)
            return new Tensor[] {q, kv.slice(-1, 0, e), kv.slice(-1, e, 2 * e)};
        }
        return new Tensor[] {q,
            F.linear(key, inProjWeight.slice(0, e, 2 * e), biasSlice(e, 2 * e)),
            F.linear(value, inProjWeight.slice(0, 2 * e, 3 * e), biasSlice(2 * e, 3 * e))};
    }

    private Tensor biasSlice(int from, int to) {
        return inProjBias == null ? null : inProjBias.slice(0, from, to);
    }

    /** (N, len, E) with batchFirst or (len, N, E) → (N, H, len, headDim), a view where the layout allows. */
    private Tensor splitHeads(Tensor t, int n, int len) {
        return batchFirst
                ? t.reshape(n, len, numHeads, headDim).permute(0, 2, 1, 3)
                : t.reshape(len, n, numHeads, headDim).permute(1, 2, 0, 3);
    }

    /** (N, H, len, headDim) → (N, len, E) with batchFirst, else (len, N, E). */
    private Tensor merge(Tensor context, int n, int len) {
        return batchFirst
                ? context.permute(0, 2, 1, 3).reshape(n, len, embedDim)
                : context.permute(2, 0, 1, 3).reshape(len, n, embedDim);
    }

    /** A mask of this layer (bool/uint8 true = masked, or float added) for the fused op. */
    private static Attention.Mask fusedMask(Tensor mask) {
        return mask.dtype().isMask() ? Attention.Mask.blockWhereTrue(mask) : Attention.Mask.additive(mask);
    }

    private static Tensor applyMask(Tensor scores, Tensor mask) {
        return mask.dtype().isMask() ? scores.maskedFill(mask, Float.NEGATIVE_INFINITY) : scores.add(mask);
    }

    // ------------------------------------------------------------------ validation

    private String layout(String seq, int features) {
        return batchFirst
                ? "(N, " + seq + ", " + features + ") with batchFirst"
                : "(" + seq + ", N, " + features + ") (batchFirst=false: sequence first)";
    }

    private void checkUnbatched(Tensor query, Tensor key, Tensor value, Tensor keyPaddingMask) {
        check(query.size(1) == embedDim, "query", "(L, " + embedDim + ") unbatched", query);
        check(key.dim() == 2 && key.size(1) == kdim, "key", "(S, " + kdim + ") as the query is unbatched", key);
        check(value.dim() == 2 && value.size(0) == key.size(0) && value.size(1) == vdim, "value",
                "(S, " + vdim + ") with S = " + key.size(0) + " as in the key", value);
        if (keyPaddingMask != null) {
            checkMask(keyPaddingMask.dim() == 1 && keyPaddingMask.size(0) == key.size(0), "keyPaddingMask",
                    "(S) = (" + key.size(0) + ") as the query is unbatched", keyPaddingMask);
        }
    }

    /** {@code path (MultiheadAttention): expected query (N, L, 8) with batchFirst, got [2, 5, 7]}. */
    private void check(boolean ok, String what, String expected, Tensor t) {
        if (!ok) {
            throw new IllegalArgumentException(describe() + ": expected " + what + " " + expected + ", got "
                    + Shape.str(t.shape()));
        }
    }

    private void checkMask(boolean shapeOk, String what, String expected, Tensor mask) {
        check(shapeOk, what, expected, mask);
        if (!mask.dtype().isMask() && mask.dtype() != DType.FLOAT32) {
            throw new IllegalArgumentException(describe() + ": " + what + " must be bool/uint8 (true = masked) or "
                    + "float32 (added to the scores), got " + mask.dtype().torchName());
        }
    }

    // ------------------------------------------------------------------ accessors

    public int embedDim() {
        return embedDim;
    }

    public int numHeads() {
        return numHeads;
    }

    public int headDim() {
        return headDim;
    }

    public boolean batchFirst() {
        return batchFirst;
    }

    /** (3E, E), or null when kdim/vdim differ from embedDim. */
    public Tensor inProjWeight() {
        return inProjWeight;
    }

    /** (3E), or null without bias. */
    public Tensor inProjBias() {
        return inProjBias;
    }

    public Linear outProj() {
        return outProj;
    }

    @Override
    protected String extraRepr() {
        return "embed_dim=" + embedDim + ", num_heads=" + numHeads + ", dropout=" + dropout + ", batch_first="
                + batchFirst + (kdim != embedDim || vdim != embedDim ? ", kdim=" + kdim + ", vdim=" + vdim : "");
    }
}
