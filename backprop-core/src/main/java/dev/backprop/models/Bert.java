package dev.backprop.models;

import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.F;
import dev.backprop.nn.Init;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.ModuleList;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A BERT encoder (Devlin et al., 2019) with HuggingFace's {@code BertModel} state-dict names, so
 * that the weights of a pre-trained checkpoint (safetensors, or an ONNX export read by
 * {@link dev.backprop.onnx.OnnxBertImport}) load key for key:
 * <pre>
 *   x = LayerNorm(word_embeddings(ids) + position_embeddings(0..T-1) + token_type_embeddings(types))
 *   for each layer:
 *     a = softmax(q kᵀ / √d + mask) v            per head; q, k, v = query(x), key(x), value(x)
 *     x = LayerNorm(x + attention.output.dense(a))
 *     x = LayerNorm(x + output.dense(gelu(intermediate.dense(x))))     exact (erf) GELU
 *   last_hidden_state = x                          (B, T, hidden)
 * </pre>
 * Keys: {@code embeddings.word_embeddings.weight}, {@code embeddings.position_embeddings.weight},
 * {@code embeddings.token_type_embeddings.weight}, {@code embeddings.LayerNorm.{weight,bias}},
 * {@code encoder.layer.N.attention.self.{query,key,value}.{weight,bias}},
 * {@code encoder.layer.N.attention.output.dense.*}, {@code encoder.layer.N.attention.output.LayerNorm.*},
 * {@code encoder.layer.N.intermediate.dense.*}, {@code encoder.layer.N.output.dense.*},
 * {@code encoder.layer.N.output.LayerNorm.*}, and {@code pooler.dense.*} when built with a pooler.
 *
 * <p>Padding: the attention mask (true for real tokens) keeps padded keys out of every query's
 * softmax, so a sentence's real-token outputs do not depend on its batch's padding. Dropout
 * ({@code hidden_dropout_prob}) applies in training after the embeddings and each projection, as in
 * HuggingFace; attention-probability dropout is not applied (the fused attention op has none).
 *
 * <pre>{@code
 * Bert bert = OnnxBertImport.load(Path.of("model.onnx")).model();
 * Tensor hidden = bert.encode(ids, mask);           // (B, T, 384) from (B, T) int64 ids
 * Tensor sentence = Bert.meanPool(hidden, mask);    // (B, 384)
 * }</pre>
 */
public final class Bert extends Module {

    /**
     * The sizes, as HuggingFace's {@code BertConfig}.
     *
     * @param vocabSize token ids run from 0 to vocabSize - 1
     * @param hiddenSize the width of every token's vector
     * @param numLayers the number of encoder layers
     * @param numHeads attention heads (hiddenSize must be a multiple)
     * @param intermediateSize the feed-forward width
     * @param maxPositions the longest sequence (rows of the position embeddings)
     * @param typeVocabSize segment (token type) ids, 2 for BERT
     * @param layerNormEps LayerNorm's epsilon (1e-12 in BERT)
     * @param hiddenDropout dropout after the embeddings and each residual branch, in training
     * @param pooler whether the model has {@code pooler.dense} (tanh of the first token's projection)
     */
    public record Config(int vocabSize, int hiddenSize, int numLayers, int numHeads, int intermediateSize,
            int maxPositions, int typeVocabSize, float layerNormEps, float hiddenDropout, boolean pooler) {
        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException naming the first value out of range
         */
        public Config {
            if (vocabSize <= 0 || hiddenSize <= 0 || numLayers <= 0 || numHeads <= 0 || intermediateSize <= 0
                    || maxPositions <= 0 || typeVocabSize <= 0) {
                throw new IllegalArgumentException("Bert.Config: sizes must be positive, got vocab=" + vocabSize
                        + ", hidden=" + hiddenSize + ", layers=" + numLayers + ", heads=" + numHeads
                        + ", intermediate=" + intermediateSize + ", positions=" + maxPositions + ", types="
                        + typeVocabSize);
            }
            if (hiddenSize % numHeads != 0) {
                throw new IllegalArgumentException("Bert.Config: hidden size " + hiddenSize
                        + " is not a multiple of the number of heads " + numHeads);
            }
            if (!(layerNormEps > 0) || !(hiddenDropout >= 0 && hiddenDropout < 1)) {
                throw new IllegalArgumentException("Bert.Config: expected layerNormEps > 0 and hiddenDropout in [0, 1), "
                        + "got " + layerNormEps + " and " + hiddenDropout);
            }
        }

        /** all-MiniLM-L6-v2's sizes: 30522 tokens, 384 wide, 6 layers of 12 heads, 1536 feed-forward. */
        public static Config miniLmL6() {
            return new Config(30522, 384, 6, 12, 1536, 512, 2, 1e-12f, 0.1f, false);
        }

        /** The same sizes with another dropout. */
        public Config withHiddenDropout(float p) {
            return new Config(vocabSize, hiddenSize, numLayers, numHeads, intermediateSize, maxPositions,
                    typeVocabSize, layerNormEps, p, pooler);
        }

        /** The configuration as JSON-ready values (HuggingFace's key names). */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("vocab_size", vocabSize);
            m.put("hidden_size", hiddenSize);
            m.put("num_hidden_layers", numLayers);
            m.put("num_attention_heads", numHeads);
            m.put("intermediate_size", intermediateSize);
            m.put("max_position_embeddings", maxPositions);
            m.put("type_vocab_size", typeVocabSize);
            m.put("layer_norm_eps", (double) layerNormEps);
            m.put("hidden_dropout_prob", (double) hiddenDropout);
            m.put("pooler", pooler);
            return m;
        }

        /**
         * Reads {@link #toMap()}'s form (or a HuggingFace {@code config.json}'s keys).
         *
         * @throws IllegalArgumentException naming a missing or mistyped key
         */
        public static Config fromMap(Map<String, Object> m) {
            return new Config(num(m, "vocab_size", null).intValue(), num(m, "hidden_size", null).intValue(),
                    num(m, "num_hidden_layers", null).intValue(), num(m, "num_attention_heads", null).intValue(),
                    num(m, "intermediate_size", null).intValue(), num(m, "max_position_embeddings", 512).intValue(),
                    num(m, "type_vocab_size", 2).intValue(), num(m, "layer_norm_eps", 1e-12).floatValue(),
                    num(m, "hidden_dropout_prob", 0.1).floatValue(), Boolean.TRUE.equals(m.get("pooler")));
        }

        private static Number num(Map<String, Object> m, String key, Number orElse) {
            Object v = m.get(key);
            if (v == null && orElse != null) {
                return orElse;
            }
            if (!(v instanceof Number n)) {
                throw new IllegalArgumentException("Bert config: expected a number for \"" + key + "\", found "
                        + (v == null ? "nothing" : v));
            }
            return n;
        }
    }

    private final Config config;
    private final Embeddings embeddings;
    private final Encoder encoder;
    private final Pooler pooler;

    /** A BERT encoder with BERT's initialisation (N(0, 0.02²) weights, zero biases, unit LayerNorms). */
    public Bert(Config config) {
        this.config = config;
        this.embeddings = registerModule("embeddings", new Embeddings(config));
        this.encoder = registerModule("encoder", new Encoder(config));
        this.pooler = config.pooler() ? registerModule("pooler", new Pooler(config.hiddenSize())) : null;
        for (Map.Entry<String, Tensor> e : namedParameters().entrySet()) {
            if (e.getKey().endsWith("LayerNorm.weight")) {
                Init.ones(e.getValue());
            } else if (e.getKey().endsWith(".bias")) {
                Init.zeros(e.getValue());
            } else {
                Init.normal(e.getValue(), 0, 0.02);
            }
        }
    }

    /** The sizes. */
    public Config config() {
        return config;
    }

    /** The embeddings block. */
    public Module embeddings() {
        return embeddings;
    }

    /** The encoder layers ({@code encoder.layer}). */
    public ModuleList layers() {
        return encoder.layer;
    }

    /**
     * The last hidden state of token ids, every position attending to every position.
     *
     * @param ids (B, T) int64
     */
    @Override
    protected Tensor compute(Tensor ids) {
        return encode(ids, null, null);
    }

    /**
     * The last hidden state (B, T, hidden): HuggingFace's {@code last_hidden_state}, ONNX exports'
     * output of the same name.
     *
     * @param ids (B, T) int64 token ids
     * @param mask (B, T), true (or nonzero) at real tokens and false at padding; null for none
     */
    public Tensor encode(Tensor ids, Tensor mask) {
        return encode(ids, null, mask);
    }

    /**
     * The last hidden state with token types (segment ids).
     *
     * @param ids (B, T) int64 token ids
     * @param tokenTypes (B, T) int64 segment ids, or null for all zero
     * @param mask (B, T) true at real tokens, or null
     * @throws IllegalArgumentException if the shapes disagree or T exceeds {@code maxPositions}
     */
    public Tensor encode(Tensor ids, Tensor tokenTypes, Tensor mask) {
        checkInput(ids.dim() == 2 && ids.dtype() == DType.INT64, "(B, T) int64 token ids", ids);
        int b = ids.size(0);
        int t = ids.size(1);
        if (t > config.maxPositions()) {
            throw new IllegalArgumentException("Bert: a sequence of " + t + " tokens is longer than the model's "
                    + config.maxPositions() + " positions; truncate it");
        }
        if (mask != null && (mask.dim() != 2 || mask.size(0) != b || mask.size(1) != t)) {
            throw new IllegalArgumentException("Bert: the attention mask must have the ids' shape (" + b + ", " + t
                    + "), got " + java.util.Arrays.toString(mask.shape()));
        }
        Tensor attn = null;
        if (mask != null) {
            Tensor boolMask = mask.dtype() == DType.BOOL ? mask : mask.toFloat().gt(0.5f);
            attn = boolMask.reshape(b, 1, 1, t);
        }
        Tensor x = embeddings.embed(ids, tokenTypes);
        for (Module layer : encoder.layer) {
            x = ((Layer) layer).apply(x, attn);
        }
        return x;
    }

    /** The pooler's output tanh(dense(h[:, 0])) (B, hidden); only for a model built with a pooler. */
    public Tensor pool(Tensor hidden) {
        if (pooler == null) {
            throw new IllegalStateException("Bert: this model has no pooler (Config.pooler false); use meanPool");
        }
        return pooler.dense.forward(hidden.select(1, 0)).tanh();
    }

    /**
     * The mean of the real tokens' vectors (sentence-transformers' mean pooling).
     *
     * @param hidden (B, T, H)
     * @param mask (B, T) true/nonzero at real tokens, or null for all tokens
     * @return (B, H)
     */
    public static Tensor meanPool(Tensor hidden, Tensor mask) {
        if (mask == null) {
            return hidden.mean(1, false);
        }
        Tensor m = mask.dtype() == DType.FLOAT32 ? mask : mask.toFloat();
        Tensor summed = hidden.mul(m.unsqueeze(2)).sum(1, false);
        return summed.div(m.sum(1, true).maximum(Tensor.scalar(1e-9f)));
    }

    // ------------------------------------------------------------------ blocks

    /** {@code embeddings}: word + position + token type, LayerNorm, dropout. */
    static final class Embeddings extends Module {
        final Embedding wordEmbeddings;
        final Embedding positionEmbeddings;
        final Embedding tokenTypeEmbeddings;
        final LayerNorm norm;
        final Dropout dropout;

        Embeddings(Config c) {
            wordEmbeddings = registerModule("word_embeddings", new Embedding(c.vocabSize(), c.hiddenSize()));
            positionEmbeddings = registerModule("position_embeddings", new Embedding(c.maxPositions(), c.hiddenSize()));
            tokenTypeEmbeddings = registerModule("token_type_embeddings",
                    new Embedding(c.typeVocabSize(), c.hiddenSize()));
            norm = registerModule("LayerNorm", new LayerNorm(new int[] {c.hiddenSize()}, c.layerNormEps(), true, true));
            dropout = registerModule("dropout", new Dropout(c.hiddenDropout()));
        }

        Tensor embed(Tensor ids, Tensor types) {
            int t = ids.size(1);
            long[] pos = new long[t];
            for (int i = 0; i < t; i++) {
                pos[i] = i;
            }
            Tensor x = wordEmbeddings.forward(ids);
            x = x.add(types == null ? tokenTypeEmbeddings.weight().select(0, 0) : tokenTypeEmbeddings.forward(types));
            x = x.add(positionEmbeddings.forward(Tensor.ofLongs(pos, t)));
            return dropout.forward(norm.forward(x));
        }
    }

    /** {@code encoder}: holds {@code layer}. */
    static final class Encoder extends Module {
        final ModuleList layer;

        Encoder(Config c) {
            layer = registerModule("layer", new ModuleList());
            for (int i = 0; i < c.numLayers(); i++) {
                layer.add(new Layer(c));
            }
        }
    }

    /** A linear layer followed by dropout, residual and LayerNorm ({@code BertSelfOutput}, {@code BertOutput}). */
    static final class Output extends Module {
        final Linear dense;
        final LayerNorm norm;
        final Dropout dropout;

        Output(int in, int out, Config c) {
            dense = registerModule("dense", new Linear(in, out));
            norm = registerModule("LayerNorm", new LayerNorm(new int[] {out}, c.layerNormEps(), true, true));
            dropout = registerModule("dropout", new Dropout(c.hiddenDropout()));
        }

        Tensor apply(Tensor h, Tensor residual) {
            return norm.forward(dropout.forward(dense.forward(h)).add(residual));
        }
    }

    /** {@code attention.self}: the query, key and value projections. */
    static final class SelfAttention extends Module {
        final Linear query;
        final Linear key;
        final Linear value;

        SelfAttention(Config c) {
            query = registerModule("query", new Linear(c.hiddenSize(), c.hiddenSize()));
            key = registerModule("key", new Linear(c.hiddenSize(), c.hiddenSize()));
            value = registerModule("value", new Linear(c.hiddenSize(), c.hiddenSize()));
        }
    }

    /** {@code attention}: self-attention and its output block. */
    static final class Attention extends Module {
        final SelfAttention self;
        final Output output;

        Attention(Config c) {
            self = registerModule("self", new SelfAttention(c));
            output = registerModule("output", new Output(c.hiddenSize(), c.hiddenSize(), c));
        }
    }

    /** {@code intermediate}: the feed-forward expansion. */
    static final class Intermediate extends Module {
        final Linear dense;

        Intermediate(Config c) {
            dense = registerModule("dense", new Linear(c.hiddenSize(), c.intermediateSize()));
        }
    }

    /** One encoder layer ({@code encoder.layer.N}). */
    static final class Layer extends Module {
        final Attention attention;
        final Intermediate intermediate;
        final Output output;
        final int heads;

        Layer(Config c) {
            attention = registerModule("attention", new Attention(c));
            intermediate = registerModule("intermediate", new Intermediate(c));
            output = registerModule("output", new Output(c.intermediateSize(), c.hiddenSize(), c));
            heads = c.numHeads();
        }

        Tensor apply(Tensor x, Tensor mask) {
            int b = x.size(0);
            int t = x.size(1);
            int h = x.size(2);
            int d = h / heads;
            Tensor q = attention.self.query.forward(x).reshape(b, t, heads, d).transpose(1, 2);
            Tensor k = attention.self.key.forward(x).reshape(b, t, heads, d).transpose(1, 2);
            Tensor v = attention.self.value.forward(x).reshape(b, t, heads, d).transpose(1, 2);
            Tensor a = F.scaledDotProductAttention(q, k, v, mask, false).transpose(1, 2).reshape(b, t, h);
            Tensor y = attention.output.apply(a, x);
            return output.apply(intermediate.dense.forward(y).gelu(), y);
        }
    }

    /** {@code pooler}: dense + tanh on the first token. */
    static final class Pooler extends Module {
        final Linear dense;

        Pooler(int hidden) {
            dense = registerModule("dense", new Linear(hidden, hidden));
        }
    }
}
