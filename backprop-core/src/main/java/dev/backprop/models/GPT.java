package dev.backprop.models;

import dev.backprop.nn.Activation;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.F;
import dev.backprop.nn.Init;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.ModuleList;
import dev.backprop.autograd.GradMode;
import dev.backprop.ops.Attention;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * A character-level GPT, the W3 model of WORKLOADS.md, exactly as {@code GPT} in the PyTorch
 * reference ({@code bench/torch/models.py}, copied to {@code src/test/python/models.py}):
 * <pre>
 *   x      = wte(idx) + wpe(0 .. T-1)                          (B, T, d)
 *   x      = block_0(x) … block_{n-1}(x)                        pre-LayerNorm blocks, no dropout
 *   logits = ln_f(x) wteᵀ                                       output head tied to the token embedding, no bias
 *
 *   block(x): x = x + proj(attn(ln1(x)))                        causal self-attention, nHead heads
 *             x = x + fc2(gelu_tanh(fc(ln2(x))))
 *   attn(h):  q, k, v = split(qkv(h)); per head softmax(masked_fill(q kᵀ / √head_dim, future, -inf)) v
 * </pre>
 * Linear and LayerNorm layers have biases. Initialisation is GPT-2's (nanoGPT's): every Linear
 * and Embedding weight N(0, 0.02), zero biases, and N(0, 0.02/√(2·nLayer)) for the two residual
 * output projections ({@code proj} and {@code fc2}); LayerNorms start at weight 1, bias 0.
 *
 * <p>State-dict keys are PyTorch's: {@code wte.weight}, {@code wpe.weight},
 * {@code blocks.{i}.{ln1,qkv,proj,ln2,fc,fc2}.{weight,bias}}, {@code ln_f.weight},
 * {@code ln_f.bias}; there is no {@code lm_head} key (the head is {@code wte.weight}). The causal
 * masks ({@code blocks.{i}.mask}) and the positions ({@code pos}) are non-persistent buffers, as
 * in PyTorch, so they are not in the state dict. A state dict saved by PyTorch loads with
 * {@link #loadStateDict} and gives the same logits.
 *
 * <pre>{@code
 * GPT model = new GPT(GPT.Config.w3(), new Generator(1));
 * Tensor logits = model.forward(idx);                      // idx: int64 (B, T), T <= 64
 * Tensor loss = Workloads.sequenceLoss(logits, targets);   // targets: int64 (B, T)
 * }</pre>
 *
 * <p>Inside a block the Linear and LayerNorm layers run on the (B·T, d) matrix of the residual
 * stream, so every linear layer is one matrix product (and its weight gradient one product)
 * rather than B of them; the numbers are those of the (B, T, d) formulation.
 *
 * <h2>Generation: the key/value cache</h2>
 *
 * {@link #forward(Tensor, KVCache)} is the incremental forward: it computes q, k and v of the new
 * tokens only, appends k and v to a {@link KVCache} (per layer, the keys and values of every
 * position seen so far) and lets the new tokens attend to all cached positions. Generating N tokens
 * then costs N one-token forwards instead of N forwards over the whole context; the logits are
 * those of the full forward ({@code GPTKVCacheTest} checks every position). {@link #decoding()}
 * wraps it for {@link Sampler}, sliding the window once the context is full (see there).
 */
public class GPT extends Module implements LanguageModel {

    /**
     * The model's sizes.
     *
     * @param vocabSize tokens (rows of {@code wte}, columns of the logits)
     * @param contextLength the longest sequence (rows of {@code wpe})
     * @param nLayer transformer blocks
     * @param nHead attention heads; {@code dModel} must be a multiple of it
     * @param dModel the width of the residual stream
     * @param mlpHidden the MLP's hidden width ({@code 4 · dModel} in the reference)
     */
    public record Config(int vocabSize, int contextLength, int nLayer, int nHead, int dModel, int mlpHidden) {
        public Config {
            if (vocabSize <= 0 || contextLength <= 0 || nLayer <= 0 || nHead <= 0 || dModel <= 0 || mlpHidden <= 0) {
                throw new IllegalArgumentException("GPT.Config: every size must be positive, got vocabSize=" + vocabSize
                        + ", contextLength=" + contextLength + ", nLayer=" + nLayer + ", nHead=" + nHead + ", dModel="
                        + dModel + ", mlpHidden=" + mlpHidden);
            }
            if (dModel % nHead != 0) {
                throw new IllegalArgumentException("GPT.Config: dModel " + dModel + " must be divisible by nHead "
                        + nHead + " (each head gets dModel / nHead features)");
            }
        }

        /** W3: vocab 65, context 64, 4 layers, 4 heads, d_model 128, MLP 512 (809,856 parameters). */
        public static Config w3() {
            return new Config(65, 64, 4, 4, 128, 512);
        }

        /** dModel / nHead. */
        public int headDim() {
            return dModel / nHead;
        }
    }

    private final Config config;
    private final Embedding wte;
    private final Embedding wpe;
    private final ModuleList blocks;
    private final LayerNorm lnF;
    private final Tensor pos; // int64 0 .. contextLength-1, non-persistent

    /** A model initialised from the default generator ({@link Generator#defaultGenerator()}). */
    public GPT(Config config) {
        this(config, Generator.defaultGenerator());
    }

    /**
     * A model initialised from {@code gen} (GPT-2's scheme, see the class comment). With a
     * generator other than the default one, the default generator is left as it was: its numbers
     * drawn by the sub-layers' own constructors are given back.
     */
    public GPT(Config config, Generator gen) {
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(gen, "gen");
        Generator dflt = Generator.defaultGenerator();
        long[] saved = gen == dflt ? null : dflt.state();
        try {
            // registration order is PyTorch's, so parameters and state-dict keys come in its order
            wte = registerModule("wte", new Embedding(config.vocabSize(), config.dModel()));
            wpe = registerModule("wpe", new Embedding(config.contextLength(), config.dModel()));
            blocks = registerModule("blocks", new ModuleList());
            for (int i = 0; i < config.nLayer(); i++) {
                blocks.add(new Block(config.dModel(), config.nHead(), config.mlpHidden(), config.contextLength()));
            }
            lnF = registerModule("ln_f", new LayerNorm(config.dModel()));
        } finally {
            if (saved != null) {
                dflt.setState(saved);
            }
        }
        long[] positions = new long[config.contextLength()];
        for (int i = 0; i < positions.length; i++) {
            positions[i] = i;
        }
        pos = registerBuffer("pos", Tensor.ofLongs(positions, positions.length), false);
        resetParameters(gen);
    }

    /**
     * GPT-2's initialisation from {@code gen}: Linear and Embedding weights N(0, 0.02), biases 0,
     * {@code proj} and {@code fc2} weights N(0, 0.02/√(2·nLayer)), LayerNorms weight 1 and bias 0.
     * Parameters are drawn in the order of {@link #namedParameters()}.
     */
    public void resetParameters(Generator gen) {
        double residualStd = 0.02 / Math.sqrt(2.0 * config.nLayer());
        Init.normal(wte.weight(), 0, 0.02, gen);
        Init.normal(wpe.weight(), 0, 0.02, gen);
        for (Block b : blocks()) {
            resetLayerNorm(b.ln1);
            resetLinear(b.qkv, 0.02, gen);
            resetLinear(b.proj, residualStd, gen);
            resetLayerNorm(b.ln2);
            resetLinear(b.fc, 0.02, gen);
            resetLinear(b.fc2, residualStd, gen);
        }
        resetLayerNorm(lnF);
    }

    private static void resetLinear(Linear l, double std, Generator gen) {
        Init.normal(l.weight(), 0, std, gen);
        Init.zeros(l.bias());
    }

    private static void resetLayerNorm(LayerNorm n) {
        Init.ones(n.weight());
        Init.zeros(n.bias());
    }

    /**
     * Logits (B, T, vocabSize) for int64 token indices {@code idx} (B, T), 1 ≤ T ≤ contextLength.
     * Use {@link #forward(Tensor)}.
     */
    @Override
    protected Tensor compute(Tensor idx) {
        checkInput(idx.dtype() == DType.INT64 && idx.dim() == 2,
                "int64 token indices (B, T) with T <= " + config.contextLength(), idx);
        int b = idx.size(0);
        int t = idx.size(1);
        if (t > config.contextLength() || t == 0) {
            throw new IllegalArgumentException(describe() + ": sequence length " + t + " is "
                    + (t == 0 ? "empty" : "longer than the context length") + ": expected input (B, T) with 1 <= T <= "
                    + config.contextLength() + ", got " + Shape.str(idx.shape()));
        }
        int d = config.dModel();
        Tensor x = wte.forward(idx).add(wpe.forward(t == pos.size(0) ? pos : pos.slice(0, 0, t))); // (B, T, d)
        for (Block block : blocks()) {
            x = block.forward(x);
        }
        Tensor h = lnF.forward(x.reshape(b * t, d));
        return F.linear(h, wte.weight(), null).reshape(b, t, config.vocabSize()); // tied head, no bias
    }

    // ------------------------------------------------------------------ incremental forward (generation)

    /**
     * The keys and values of the positions a {@link GPT} has seen, per layer, for the incremental
     * forward {@link GPT#forward(Tensor, KVCache)}. Holds up to {@code contextLength} positions of
     * {@code batchSize} sequences; {@link #clear()} empties it for reuse.
     */
    public static final class KVCache {
        private final GPT owner; // the keys and values are this model's
        private final Tensor[] keys; // per layer (B, nHead, contextLength, headDim)
        private final Tensor[] values; // per layer (B, nHead, contextLength, headDim)
        private final int batchSize;
        private final int capacity;
        private int length; // positions [0, length) are filled

        private KVCache(GPT owner, Config config, int batchSize) {
            this.owner = owner;
            this.batchSize = batchSize;
            this.capacity = config.contextLength();
            keys = new Tensor[config.nLayer()];
            values = new Tensor[config.nLayer()];
            for (int l = 0; l < keys.length; l++) {
                keys[l] = Tensor.zeros(batchSize, config.nHead(), capacity, config.headDim());
                values[l] = Tensor.zeros(batchSize, config.nHead(), capacity, config.headDim());
            }
        }

        /** Positions cached so far: the position of the next token fed. */
        public int length() {
            return length;
        }

        /** The most positions it holds: the model's context length. */
        public int capacity() {
            return capacity;
        }

        /** The sequences it holds (B). */
        public int batchSize() {
            return batchSize;
        }

        /** Forgets every position; the next token fed is at position 0 again. */
        public void clear() {
            length = 0;
        }
    }

    /** An empty cache for {@code batchSize} sequences. */
    public KVCache newCache(int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("GPT.newCache: batch size must be positive, got " + batchSize);
        }
        return new KVCache(this, config, batchSize);
    }

    /**
     * The incremental forward: logits (B, T, vocabSize) of new tokens {@code idx} (B, T) at positions
     * {@code cache.length()} to {@code cache.length() + T - 1}, each attending to every cached
     * position and to the new positions up to its own; their keys and values are appended to the
     * cache. With an empty cache it gives the numbers of {@link #forward(Tensor)}. Forward only:
     * runs without recording gradients.
     *
     * @throws IllegalArgumentException if the cache was made for another batch size or model, or
     *     would overflow the context length (then {@link KVCache#clear()} it and feed the last
     *     tokens again, as {@link #decoding()} does)
     */
    public Tensor forward(Tensor idx, KVCache cache) {
        checkInput(idx.dtype() == DType.INT64 && idx.dim() == 2 && idx.size(1) >= 1,
                "int64 token indices (B, T) with T >= 1", idx);
        int b = idx.size(0);
        int t = idx.size(1);
        if (cache.owner != this || cache.batchSize != b) {
            throw new IllegalArgumentException(describe() + ": the key/value cache holds " + cache.batchSize
                    + " sequences" + (cache.owner != this ? " of another model" : "") + ", but the input has " + b
                    + " sequences for this model; make one with newCache(" + b + ") on this model");
        }
        int start = cache.length;
        if (start + t > config.contextLength()) {
            throw new IllegalArgumentException(describe() + ": " + t + " new tokens after " + start + " cached ones "
                    + "exceed the context length " + config.contextLength() + "; clear() the cache and feed at most "
                    + config.contextLength() + " of the latest tokens again (a sliding window)");
        }
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            int d = config.dModel();
            Tensor x = wte.forward(idx).add(wpe.forward(pos.slice(0, start, start + t))); // (B, T, d)
            Tensor flat = x.reshape(b * t, d);
            List<Block> bl = blocks();
            for (int layer = 0; layer < bl.size(); layer++) {
                flat = bl.get(layer).forwardCached(flat, b, t, start, cache.keys[layer], cache.values[layer]);
            }
            cache.length = start + t;
            Tensor h = lnF.forward(flat);
            return F.linear(h, wte.weight(), null).reshape(b, t, config.vocabSize());
        }
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    @Override
    public int contextLength() {
        return config.contextLength();
    }

    /**
     * A decoding session with a key/value cache ({@link #decoding(boolean) decoding(true)}): each
     * token fed costs one incremental forward of that token.
     */
    @Override
    public LanguageModel.Decoding decoding() {
        return decoding(true);
    }

    /**
     * A decoding session of one sequence.
     *
     * <p>With {@code useCache}, tokens go through {@link #forward(Tensor, KVCache)}. When the
     * context is full, the window slides by half: the cache is cleared and the last
     * {@code contextLength / 2} tokens (or all new ones, if more) are fed again in one forward, after
     * which the next tokens are incremental again. So every prediction beyond the context sees
     * between half a context and a full context of the latest tokens, at an amortised cost of about
     * two token-forwards per token. (The cached keys carry their absolute positions, so dropping
     * only the oldest position would need every later key recomputed, a full forward per token.)
     *
     * <p>Without the cache, every feed runs {@link #forward(Tensor)} on the last
     * {@code contextLength} tokens (nanoGPT's {@code generate}): the reference the cache is
     * checked against, and the baseline it is measured against. Both give the same logits as long
     * as the sequence fits in the context.
     */
    public LanguageModel.Decoding decoding(boolean useCache) {
        return useCache ? new CachedDecoding() : new FullDecoding();
    }

    private void checkTokens(long[] tokens) {
        if (tokens.length == 0) {
            throw new IllegalArgumentException(describe() + ": feed at least one token");
        }
        for (long id : tokens) {
            if (id < 0 || id >= config.vocabSize()) {
                throw new IllegalArgumentException(describe() + ": token id " + id + " is outside the vocabulary [0, "
                        + config.vocabSize() + ")");
            }
        }
    }

    private static float[] lastRow(Tensor logits) { // (1, T, V) to the V logits of the last position
        return logits.select(1, logits.size(1) - 1).reshape(-1).toFloatArray();
    }

    /** Decoding through the key/value cache, sliding by half a context when it is full. */
    private final class CachedDecoding implements LanguageModel.Decoding {
        private final KVCache cache = newCache(1);
        private long[] cached = new long[0]; // the tokens whose keys and values the cache holds, in order
        private long position;

        @Override
        public float[] feed(long... tokens) {
            checkTokens(tokens);
            int ctx = config.contextLength();
            Tensor logits;
            if (cache.length() + tokens.length <= ctx) {
                logits = GPT.this.forward(Tensor.ofLongs(tokens.clone(), 1, tokens.length), cache);
                cached = concat(cached, tokens);
            } else {
                long[] recent = concat(cached, tokens);
                int keep = Math.min(recent.length, Math.max(ctx / 2, Math.min(tokens.length, ctx)));
                cached = Arrays.copyOfRange(recent, recent.length - keep, recent.length);
                cache.clear();
                logits = GPT.this.forward(Tensor.ofLongs(cached.clone(), 1, keep), cache);
            }
            position += tokens.length;
            return lastRow(logits);
        }

        @Override
        public long position() {
            return position;
        }
    }

    /** Decoding without a cache: a full forward on the last contextLength tokens per feed. */
    private final class FullDecoding implements LanguageModel.Decoding {
        private long[] window = new long[0]; // the last <= contextLength tokens
        private long position;

        @Override
        public float[] feed(long... tokens) {
            checkTokens(tokens);
            long[] all = concat(window, tokens);
            int keep = Math.min(all.length, config.contextLength());
            window = Arrays.copyOfRange(all, all.length - keep, all.length);
            position += tokens.length;
            return lastRow(GradMode.noGrad(() -> GPT.this.forward(Tensor.ofLongs(window.clone(), 1, keep))));
        }

        @Override
        public long position() {
            return position;
        }
    }

    private static long[] concat(long[] a, long[] b) {
        long[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    public Config config() {
        return config;
    }

    /** The token embedding (vocabSize, dModel); its weight is also the output head. */
    public Embedding wte() {
        return wte;
    }

    /** The learned positional embedding (contextLength, dModel). */
    public Embedding wpe() {
        return wpe;
    }

    /** The transformer blocks, in order. */
    public List<Block> blocks() {
        List<Block> out = new ArrayList<>(blocks.size());
        for (Module m : blocks) {
            out.add((Block) m);
        }
        return Collections.unmodifiableList(out);
    }

    /** The final LayerNorm ({@code ln_f}). */
    public LayerNorm lnF() {
        return lnF;
    }

    @Override
    protected String extraRepr() {
        return "vocab=" + config.vocabSize() + ", ctx=" + config.contextLength() + ", n_layer=" + config.nLayer()
                + ", n_head=" + config.nHead() + ", d=" + config.dModel() + ", mlp=" + config.mlpHidden();
    }

    /**
     * One pre-LayerNorm transformer block, as {@code Block} in the PyTorch reference:
     * <pre>
     *   x = x + proj(attn(ln1(x)))          attn: causal self-attention, scale 1/√head_dim
     *   x = x + fc2(act(fc(ln2(x))))        act: GELU, tanh approximation
     * </pre>
     * Sub-modules {@code ln1}, {@code qkv} (d → 3d, split into q, k, v), {@code proj} (d → d),
     * {@code ln2}, {@code fc} (d → mlpHidden), {@code act}, {@code fc2} (mlpHidden → d), and the
     * non-persistent buffer {@code mask}: bool (1, 1, ctx, ctx), true on and below the diagonal
     * (where attention is allowed), as PyTorch's. Built on its own, the Linear layers have
     * PyTorch's default initialisation; {@link GPT} re-initialises them.
     */
    public static class Block extends Module {
        private final int dModel;
        private final int nHead;
        private final int contextLength;
        private final LayerNorm ln1;
        private final Linear qkv;
        private final Linear proj;
        private final LayerNorm ln2;
        private final Linear fc;
        private final Activation.GELU act;
        private final Linear fc2;

        public Block(int dModel, int nHead, int mlpHidden, int contextLength) {
            if (dModel <= 0 || nHead <= 0 || mlpHidden <= 0 || contextLength <= 0 || dModel % nHead != 0) {
                throw new IllegalArgumentException("GPT.Block: sizes must be positive and dModel a multiple of nHead, "
                        + "got dModel=" + dModel + ", nHead=" + nHead + ", mlpHidden=" + mlpHidden + ", contextLength="
                        + contextLength);
            }
            this.dModel = dModel;
            this.nHead = nHead;
            this.contextLength = contextLength;
            ln1 = registerModule("ln1", new LayerNorm(dModel));
            qkv = registerModule("qkv", new Linear(dModel, 3 * dModel));
            proj = registerModule("proj", new Linear(dModel, dModel));
            ln2 = registerModule("ln2", new LayerNorm(dModel));
            fc = registerModule("fc", new Linear(dModel, mlpHidden));
            act = registerModule("act", new Activation.GELU(true));
            fc2 = registerModule("fc2", new Linear(mlpHidden, dModel));
            boolean[] allowed = new boolean[contextLength * contextLength];
            for (int i = 0; i < contextLength; i++) {
                for (int j = 0; j <= i; j++) {
                    allowed[i * contextLength + j] = true;
                }
            }
            registerBuffer("mask", Tensor.ofBools(allowed, 1, 1, contextLength, contextLength), false);
        }

        /** x (B, T, dModel) with T <= contextLength to (B, T, dModel). Use {@link #forward(Tensor)}. */
        @Override
        protected Tensor compute(Tensor x) {
            checkInput(x.dim() == 3 && x.size(2) == dModel && x.size(1) >= 1 && x.size(1) <= contextLength,
                    "(B, T, " + dModel + ") with 1 <= T <= " + contextLength, x);
            int b = x.size(0);
            int t = x.size(1);
            Tensor flat = x.reshape(b * t, dModel); // the residual stream as one matrix
            flat = flat.add(attention(ln1.forward(flat), b, t));
            flat = flat.add(fc2.forward(act.forward(fc.forward(ln2.forward(flat)))));
            return flat.reshape(b, t, dModel);
        }

        /**
         * The block on T new positions {@code start .. start+T-1} of B sequences, {@code flat}
         * (B·T, d), attending to the {@code start} cached positions: k and v of the new positions
         * are written into {@code keys} and {@code values} (B, nHead, ctx, headDim) first. No
         * gradient (the caller is in no-grad mode).
         */
        Tensor forwardCached(Tensor flat, int b, int t, int start, Tensor keys, Tensor values) {
            int hd = dModel / nHead;
            int len = start + t;
            Tensor qkvOut = qkv.forward(ln1.forward(flat)).reshape(b, t, 3, nHead, hd);
            Tensor q = qkvOut.select(2, 0).permute(0, 2, 1, 3); // (B, nHead, T, hd) views of the projection
            keys.slice(2, start, len).copyFrom(qkvOut.select(2, 1).permute(0, 2, 1, 3));
            values.slice(2, start, len).copyFrom(qkvOut.select(2, 2).permute(0, 2, 1, 3));
            Attention.Mask[] masks = new Attention.Mask[0];
            if (t > 1) { // new position start+i may see keys 0 .. start+i
                boolean[] allowed = new boolean[t * len];
                for (int i = 0; i < t; i++) {
                    Arrays.fill(allowed, i * len, i * len + start + i + 1, true);
                }
                masks = new Attention.Mask[] {Attention.Mask.allowWhereTrue(Tensor.ofBools(allowed, t, len))};
            }
            Tensor y = Attention.apply(q, keys.slice(2, 0, len), values.slice(2, 0, len), false, 1.0 / Math.sqrt(hd),
                    masks); // (B, nHead, T, hd)
            flat = flat.add(proj.forward(y.permute(0, 2, 1, 3).reshape(b * t, dModel)));
            return flat.add(fc2.forward(act.forward(fc.forward(ln2.forward(flat)))));
        }

        /** proj(causal self-attention of h), h (B·T, d). */
        private Tensor attention(Tensor h, int b, int t) {
            int c = dModel;
            int hd = c / nHead;
            Tensor qkvOut = qkv.forward(h); // (B·T, 3d): q, k, v, each nHead heads of hd features
            // one fused op (F.scaledDotProductAttention on the packed projection): per head
            // softmax(q kᵀ / √hd, causal) v, reading q, k, v in place and returning the heads merged
            // back, (B, T, d); the gradient of qkvOut comes back in one piece
            Tensor y = Attention.packed(qkvOut.reshape(b, t, 3 * c), nHead, true, 1.0 / Math.sqrt(hd));
            return proj.forward(y.reshape(b * t, c));
        }

        public LayerNorm ln1() {
            return ln1;
        }

        /** The fused q, k, v projection (d → 3d). */
        public Linear qkv() {
            return qkv;
        }

        /** The attention output projection (d → d), a residual projection. */
        public Linear proj() {
            return proj;
        }

        public LayerNorm ln2() {
            return ln2;
        }

        public Linear fc() {
            return fc;
        }

        /** The MLP's output layer (mlpHidden → d), a residual projection. */
        public Linear fc2() {
            return fc2;
        }

        public int numHeads() {
            return nHead;
        }

        @Override
        protected String extraRepr() {
            return "d=" + dModel + ", n_head=" + nHead + ", ctx=" + contextLength;
        }
    }
}
