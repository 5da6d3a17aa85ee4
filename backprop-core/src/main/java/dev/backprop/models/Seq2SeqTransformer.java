package dev.backprop.models;

import dev.backprop.autograd.GradMode;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.F;
import dev.backprop.nn.Init;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Module;
import dev.backprop.nn.ModuleList;
import dev.backprop.nn.MultiheadAttention;
import dev.backprop.nn.TransformerDecoderLayer;
import dev.backprop.nn.TransformerEncoderLayer;
import dev.backprop.ops.Attention;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/**
 * An encoder–decoder Transformer for translation ("Attention Is All You Need", pre-LayerNorm as in
 * fairseq's {@code --encoder-normalize-before}):
 * <pre>
 *   embed(ids) = dropout(E[ids] · √d + PE[0 .. T-1])             one token table E (vocabSize, d), sinusoidal PE
 *   memory     = normE(encoder_{N-1}( … encoder_0(embed(src))))    self-attention, source key padding mask
 *   h          = normD(decoder_{N-1}( … decoder_0(embed(tgtIn), memory)))
 *                                                                 causal self-attention + target key padding mask,
 *                                                                 cross-attention with the source key padding mask
 *   logits     = h Eᵀ                                              (N, T, vocabSize), tied to the embedding, no bias
 * </pre>
 * <b>One vocabulary</b> for both languages (a joint BPE): the same table embeds source tokens,
 * target tokens and projects the output (three-way tying, as in fairseq's
 * {@code --share-all-embeddings}). It saves parameters, and for related languages such as English
 * and German names, numbers and cognates share ids. Sequences are right-padded with
 * {@link Config#padId()}; the decoder input starts with {@link Config#bosId()} and generation
 * stops at {@link Config#eosId()}.
 *
 * <p>Layers are the library's {@link TransformerEncoderLayer} and {@link TransformerDecoderLayer}
 * ({@code normFirst}, {@code batchFirst}); state-dict keys are {@code embed.weight},
 * {@code encoder.{i}.…}, {@code encoder_norm.…}, {@code decoder.{i}.…}, {@code decoder_norm.…}.
 *
 * <p>Decoding ({@link #greedy}, {@link #beamSearch}) is incremental: each step runs the decoder on
 * the newest token only, with the self-attention keys and values of the earlier tokens cached per
 * layer and the cross-attention keys and values of the memory computed once. {@link #decodeStep}
 * equals the last position of {@link #forward(Tensor, Tensor)} (a test checks it).
 *
 * <pre>{@code
 * var model = new Seq2SeqTransformer(new Seq2SeqTransformer.Config(vocab, pad, bos, eos, 256, 4, 3, 3, 1024, 0.1f, 256));
 * Tensor loss = model.loss(src, tgtIn, tgtOut, 0.1f);       // src (N, S), tgtIn/tgtOut (N, T) int64, padded
 * List<int[]> out = model.beamSearch(src, 4, 0.6, 50);      // token ids without bos/eos
 * }</pre>
 */
public class Seq2SeqTransformer extends Module {

    /**
     * The model's sizes and special ids.
     *
     * @param vocabSize ids of the joint vocabulary, special tokens included
     * @param padId padding (ignored by the loss, masked in attention)
     * @param bosId the first token of every decoder input
     * @param eosId the last token of every target; decoding stops there
     * @param dModel the width of the residual stream
     * @param nHead attention heads (dModel must be a multiple)
     * @param encoderLayers encoder blocks
     * @param decoderLayers decoder blocks
     * @param dimFeedforward the feed-forward hidden width
     * @param dropout dropout on embeddings, attention weights, residual branches and the FFN
     * @param maxLength the longest source or target sequence (rows of the positional table)
     */
    public record Config(int vocabSize, int padId, int bosId, int eosId, int dModel, int nHead, int encoderLayers,
            int decoderLayers, int dimFeedforward, float dropout, int maxLength) {
        public Config {
            if (vocabSize <= 0 || dModel <= 0 || nHead <= 0 || encoderLayers <= 0 || decoderLayers <= 0
                    || dimFeedforward <= 0 || maxLength <= 0) {
                throw new IllegalArgumentException("Seq2SeqTransformer.Config: sizes must be positive, got vocabSize="
                        + vocabSize + ", dModel=" + dModel + ", nHead=" + nHead + ", encoderLayers=" + encoderLayers
                        + ", decoderLayers=" + decoderLayers + ", dimFeedforward=" + dimFeedforward + ", maxLength="
                        + maxLength);
            }
            if (dModel % nHead != 0) {
                throw new IllegalArgumentException("Seq2SeqTransformer.Config: dModel " + dModel
                        + " must be divisible by nHead " + nHead);
            }
            for (int id : new int[] {padId, bosId, eosId}) {
                if (id < 0 || id >= vocabSize) {
                    throw new IllegalArgumentException("Seq2SeqTransformer.Config: padId, bosId and eosId must be in [0, "
                            + vocabSize + "), got " + padId + ", " + bosId + ", " + eosId
                            + " (does the tokenizer have pad, bos and eos tokens?)");
                }
            }
            if (!(dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("Seq2SeqTransformer.Config: dropout must be in [0, 1), got " + dropout);
            }
        }
    }

    /** The encoder's output: memory (N, S, d) and the source padding mask (N, S), bool true = padding. */
    public record Memory(Tensor memory, Tensor paddingMask) {}

    private final Config config;
    private final Embedding embed; // (vocab, d), also the output head
    private final ModuleList encoder;
    private final LayerNorm encoderNorm;
    private final ModuleList decoder;
    private final LayerNorm decoderNorm;
    private final Dropout embedDropout;
    private final Tensor positions; // (maxLength, d) sinusoidal, non-persistent

    /**
     * A model initialised from the default generator: the token table N(0, d^-½), the layers with
     * PyTorch's defaults.
     */
    public Seq2SeqTransformer(Config config) {
        this.config = Objects.requireNonNull(config, "config");
        int d = config.dModel();
        TransformerEncoderLayer.Options options = TransformerEncoderLayer.Options.defaults()
                .withDimFeedforward(config.dimFeedforward()).withDropout(config.dropout()).withNormFirst(true)
                .withBatchFirst(true);
        embed = registerModule("embed", new Embedding(config.vocabSize(), d));
        encoder = registerModule("encoder", new ModuleList());
        for (int i = 0; i < config.encoderLayers(); i++) {
            encoder.add(new TransformerEncoderLayer(d, config.nHead(), options));
        }
        encoderNorm = registerModule("encoder_norm", new LayerNorm(d));
        decoder = registerModule("decoder", new ModuleList());
        for (int i = 0; i < config.decoderLayers(); i++) {
            decoder.add(new TransformerDecoderLayer(d, config.nHead(), options));
        }
        decoderNorm = registerModule("decoder_norm", new LayerNorm(d));
        embedDropout = registerModule("embed_dropout", new Dropout(config.dropout()));
        positions = registerBuffer("positions", sinusoidal(config.maxLength(), d), false);
        // fairseq's init for a table that is both input (× √d) and tied output: N(0, d^-1/2)
        Init.normal(embed.weight(), 0, Math.pow(d, -0.5));
    }

    /** The sinusoidal table (length, d): PE[p, 2i] = sin(p / 10000^(2i/d)), PE[p, 2i+1] = cos(…). */
    static Tensor sinusoidal(int length, int d) {
        float[] pe = new float[length * d];
        for (int p = 0; p < length; p++) {
            for (int i = 0; i < d; i += 2) {
                double angle = p / Math.pow(10000, (double) i / d);
                pe[p * d + i] = (float) Math.sin(angle);
                if (i + 1 < d) {
                    pe[p * d + i + 1] = (float) Math.cos(angle);
                }
            }
        }
        return Tensor.of(pe, length, d);
    }

    /** The sizes and special ids this model was built with. */
    public Config config() {
        return config;
    }

    /** The joint token table (vocabSize, dModel), also the output projection. */
    public Embedding embed() {
        return embed;
    }

    /** The encoder layers, in order. */
    public List<TransformerEncoderLayer> encoderLayers() {
        List<TransformerEncoderLayer> out = new ArrayList<>();
        for (Module m : encoder) {
            out.add((TransformerEncoderLayer) m);
        }
        return out;
    }

    /** The decoder layers, in order. */
    public List<TransformerDecoderLayer> decoderLayers() {
        List<TransformerDecoderLayer> out = new ArrayList<>();
        for (Module m : decoder) {
            out.add((TransformerDecoderLayer) m);
        }
        return out;
    }

    /** The norm after the last encoder layer. */
    public LayerNorm encoderNorm() {
        return encoderNorm;
    }

    /** The norm after the last decoder layer. */
    public LayerNorm decoderNorm() {
        return decoderNorm;
    }

    /** The sinusoidal position table (maxLength, dModel) added to the scaled embeddings. */
    public Tensor positions() {
        return positions.detach();
    }

    // ------------------------------------------------------------------ training

    /**
     * Logits (N, T, vocabSize) of the next target token at every position.
     *
     * @param src int64 (N, S) source ids, right-padded with padId
     * @param tgtIn int64 (N, T) decoder input: bos followed by the target, right-padded
     */
    public Tensor forward(Tensor src, Tensor tgtIn) {
        return decode(tgtIn, encode(src));
    }

    /** The encoder on src (N, S): memory (N, S, d) and its padding mask. */
    public Memory encode(Tensor src) {
        checkIds("src", src);
        Tensor padMask = src.eq(Tensor.ofLongs(new long[] {config.padId()})); // (N, S) bool
        Tensor x = embedAt(src, 0);
        for (Module layer : encoder) {
            x = ((TransformerEncoderLayer) layer).forward(x, null, padMask, false);
        }
        return new Memory(encoderNorm.forward(x), padMask);
    }

    /** Logits (N, T, vocabSize) for decoder input tgtIn (N, T) over an encoded source. */
    public Tensor decode(Tensor tgtIn, Memory memory) {
        checkIds("tgtIn", tgtIn);
        if (tgtIn.size(0) != memory.memory().size(0)) {
            throw new IllegalArgumentException(describe() + ": tgtIn has " + tgtIn.size(0)
                    + " rows but the source batch has " + memory.memory().size(0) + "; expected the same N");
        }
        Tensor tgtPad = tgtIn.eq(Tensor.ofLongs(new long[] {config.padId()})); // (N, T) bool
        Tensor x = embedAt(tgtIn, 0);
        for (Module layer : decoder) {
            x = ((TransformerDecoderLayer) layer).forward(x, memory.memory(), null, null, tgtPad,
                    memory.paddingMask(), true);
        }
        return logits(decoderNorm.forward(x));
    }

    /**
     * Mean cross-entropy of the next target tokens, padding ignored, with label smoothing
     * {@code smoothing} (0 for none).
     *
     * @param tgtOut int64 (N, T): the target followed by eos, right-padded, aligned with tgtIn
     */
    public Tensor loss(Tensor src, Tensor tgtIn, Tensor tgtOut, float smoothing) {
        if (!Arrays.equals(tgtIn.shape(), tgtOut.shape())) {
            throw new IllegalArgumentException(describe() + ": tgtIn " + Shape.str(tgtIn.shape()) + " and tgtOut "
                    + Shape.str(tgtOut.shape()) + " must have the same shape (tgtOut is tgtIn shifted by one)");
        }
        Tensor logits = forward(src, tgtIn);
        int rows = tgtOut.numel();
        return F.crossEntropy(logits.reshape(rows, config.vocabSize()), tgtOut.reshape(rows),
                F.ClassLossOptions.defaults().withIgnoreIndex(config.padId()).withLabelSmoothing(smoothing));
    }

    /** E[ids] · √d + PE[start ..], then dropout: (N, T, d). */
    private Tensor embedAt(Tensor ids, int start) {
        int t = ids.size(1);
        if (start + t > config.maxLength()) {
            throw new IllegalArgumentException(describe() + ": sequence of " + (start + t) + " tokens is longer than "
                    + "maxLength " + config.maxLength() + "; truncate the input or build the model with a larger "
                    + "maxLength");
        }
        Tensor x = embed.forward(ids).mul((float) Math.sqrt(config.dModel()))
                .add(positions.slice(0, start, start + t));
        return embedDropout.forward(x);
    }

    private Tensor logits(Tensor h) {
        return F.linear(h, embed.weight(), null);
    }

    private void checkIds(String what, Tensor ids) {
        if (ids.dtype() != DType.INT64 || ids.dim() != 2 || ids.size(1) == 0) {
            throw new IllegalArgumentException(describe() + ": expected " + what + " as int64 token ids (N, T) with "
                    + "T >= 1, got " + ids.dtype().torchName() + " " + Shape.str(ids.shape()));
        }
    }

    // ------------------------------------------------------------------ incremental decoding

    /**
     * The decoder's state during generation: per layer the cached self-attention keys and values
     * of the tokens so far (M, t, d), the cross-attention keys and values of the memory (M, S, d),
     * and the memory padding mask (M, 1, 1, S).
     */
    public final class DecoderState {
        private final Tensor[] selfK;
        private final Tensor[] selfV;
        private final Tensor[] crossK;
        private final Tensor[] crossV;
        private Tensor memoryMask; // (M, 1, 1, S) bool
        private int length;

        private DecoderState(Memory memory) {
            int layers = decoder.size();
            int d = config.dModel();
            selfK = new Tensor[layers];
            selfV = new Tensor[layers];
            crossK = new Tensor[layers];
            crossV = new Tensor[layers];
            Tensor mem = memory.memory();
            for (int i = 0; i < layers; i++) {
                MultiheadAttention mha = layer(i).multiheadAttn();
                Tensor w = mha.inProjWeight();
                Tensor b = mha.inProjBias();
                crossK[i] = F.linear(mem, w.slice(0, d, 2 * d), b.slice(0, d, 2 * d));
                crossV[i] = F.linear(mem, w.slice(0, 2 * d, 3 * d), b.slice(0, 2 * d, 3 * d));
            }
            Tensor m = memory.paddingMask();
            memoryMask = m.reshape(m.size(0), 1, 1, m.size(1));
        }

        /** Tokens decoded so far (the cache length). */
        public int length() {
            return length;
        }

        /** Keeps rows {@code rows} (int64 (M')) of every cache, in that order: beam reordering. */
        public void select(Tensor rows) {
            for (int i = 0; i < selfK.length; i++) {
                if (selfK[i] != null) {
                    selfK[i] = selfK[i].indexSelect(0, rows);
                    selfV[i] = selfV[i].indexSelect(0, rows);
                }
                crossK[i] = crossK[i].indexSelect(0, rows);
                crossV[i] = crossV[i].indexSelect(0, rows);
            }
            memoryMask = memoryMask.indexSelect(0, rows);
        }
    }

    /** A fresh decoder state over an encoded source (call in eval mode, without gradients). */
    public DecoderState startDecoding(Memory memory) {
        return new DecoderState(memory);
    }

    /**
     * Feeds one token per row and returns the logits of the next one, (M, vocabSize). The same
     * numbers as the last position of {@link #decode} on the whole prefix (eval mode).
     *
     * @param tokens int64 (M, 1): the newest token of each row
     */
    public Tensor decodeStep(Tensor tokens, DecoderState state) {
        int m = tokens.size(0);
        int d = config.dModel();
        Tensor x = embedAt(tokens, state.length); // (M, 1, d)
        for (int i = 0; i < decoder.size(); i++) {
            TransformerDecoderLayer layer = layer(i);
            MultiheadAttention sa = layer.selfAttn();
            Tensor qkv = F.linear(layer.norm1().forward(x), sa.inProjWeight(), sa.inProjBias()); // (M, 1, 3d)
            Tensor k = qkv.slice(2, d, 2 * d);
            Tensor v = qkv.slice(2, 2 * d, 3 * d);
            state.selfK[i] = state.selfK[i] == null ? k.contiguous() : Tensor.cat(List.of(state.selfK[i], k), 1);
            state.selfV[i] = state.selfV[i] == null ? v.contiguous() : Tensor.cat(List.of(state.selfV[i], v), 1);
            Tensor ctx = attend(qkv.slice(2, 0, d), state.selfK[i], state.selfV[i], null, sa.numHeads(), m);
            x = x.add(F.linear(ctx, sa.outProj().weight(), sa.outProj().bias()));

            MultiheadAttention ca = layer.multiheadAttn();
            Tensor q = F.linear(layer.norm2().forward(x), ca.inProjWeight().slice(0, 0, d),
                    ca.inProjBias().slice(0, 0, d));
            ctx = attend(q, state.crossK[i], state.crossV[i], state.memoryMask, ca.numHeads(), m);
            x = x.add(F.linear(ctx, ca.outProj().weight(), ca.outProj().bias()));

            Tensor hidden = layer.linear1().forward(layer.norm3().forward(x));
            hidden = "gelu".equals(layer.options().activation()) ? hidden.gelu() : hidden.relu();
            x = x.add(layer.linear2().forward(hidden));
        }
        state.length++;
        return logits(decoderNorm.forward(x)).reshape(m, config.vocabSize());
    }

    /** Heads of q (M, 1, d) over k, v (M, t, d): (M, 1, d). */
    private static Tensor attend(Tensor q, Tensor k, Tensor v, Tensor mask, int heads, int m) {
        int d = q.size(2);
        int hd = d / heads;
        int t = k.size(1);
        Tensor qh = q.reshape(m, 1, heads, hd).transpose(1, 2); // (M, H, 1, hd)
        Tensor kh = k.reshape(m, t, heads, hd).transpose(1, 2); // (M, H, t, hd)
        Tensor vh = v.reshape(m, t, heads, hd).transpose(1, 2);
        Tensor ctx = mask == null ? Attention.apply(qh, kh, vh, false, 1 / Math.sqrt(hd))
                : Attention.apply(qh, kh, vh, false, 1 / Math.sqrt(hd), Attention.Mask.blockWhereTrue(mask));
        return ctx.transpose(1, 2).reshape(m, 1, d);
    }

    private TransformerDecoderLayer layer(int i) {
        return (TransformerDecoderLayer) decoder.get(i);
    }

    // ------------------------------------------------------------------ generation

    /**
     * Greedy decoding of a batch: at each step the most probable token, until eos or
     * {@code srcLength + maxExtra} tokens (and never past maxLength). Runs in eval mode without
     * gradients and restores the training mode.
     *
     * @param src int64 (N, S), right-padded
     * @return per source row the generated ids, without bos and eos
     */
    public List<int[]> greedy(Tensor src, int maxExtra) {
        checkIds("src", src);
        boolean wasTraining = isTraining();
        eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            int n = src.size(0);
            int v = config.vocabSize();
            int[] maxLen = maxLengths(src, maxExtra);
            int longest = Arrays.stream(maxLen).max().orElse(0);
            DecoderState state = startDecoding(encode(src));
            List<List<Integer>> out = new ArrayList<>();
            boolean[] done = new boolean[n];
            long[] feed = new long[n];
            Arrays.fill(feed, config.bosId());
            for (int r = 0; r < n; r++) {
                out.add(new ArrayList<>());
            }
            for (int step = 0; step < longest; step++) {
                float[] logits = decodeStep(Tensor.ofLongs(feed, n, 1), state).toFloatArray();
                logSoftmaxRows(logits, n, v); // the same ranking (and ties) as beamSearch
                boolean all = true;
                for (int r = 0; r < n; r++) {
                    if (done[r]) {
                        continue;
                    }
                    int best = 0;
                    for (int t = 1; t < v; t++) {
                        best = logits[r * v + t] > logits[r * v + best] ? t : best;
                    }
                    feed[r] = best;
                    if (best == config.eosId()) {
                        done[r] = true;
                    } else {
                        out.get(r).add(best);
                        done[r] = out.get(r).size() >= maxLen[r];
                    }
                    all &= done[r];
                }
                if (all) {
                    break;
                }
            }
            List<int[]> result = new ArrayList<>(n);
            for (List<Integer> ids : out) {
                result.add(ids.stream().mapToInt(Integer::intValue).toArray());
            }
            return result;
        } finally {
            train(wasTraining);
        }
    }

    /** Per row: non-padding source tokens + maxExtra, at least 1, at most maxLength. */
    private int[] maxLengths(Tensor src, int maxExtra) {
        int n = src.size(0);
        int s = src.size(1);
        long[] ids = src.toLongArray();
        int[] out = new int[n];
        for (int r = 0; r < n; r++) {
            int len = 0;
            for (int j = 0; j < s; j++) {
                len += ids[r * s + j] != config.padId() ? 1 : 0;
            }
            out[r] = Math.max(1, Math.min(len + maxExtra, config.maxLength()));
        }
        return out;
    }

    /**
     * Beam search over a batch, as fairseq's: {@code beamSize} hypotheses per sentence; at every
     * step the 2·beamSize best continuations are ranked, those ending in eos among the first
     * beamSize are finished (scored by the GNMT length penalty, log P / ((5 + |y|) / 6)^α, |y|
     * counting eos), the rest fill the beam; a sentence stops when beamSize hypotheses are
     * finished, or at {@code srcLength + maxExtra} tokens, where the open hypotheses are finished
     * as they are. With beamSize 1 this is exactly greedy decoding.
     *
     * @param lengthPenalty α (0 ranks by log-probability alone; 0.6 is GNMT's)
     * @return per source row the best hypothesis, without bos and eos
     */
    public List<int[]> beamSearch(Tensor src, int beamSize, double lengthPenalty, int maxExtra) {
        if (beamSize < 1) {
            throw new IllegalArgumentException("beamSearch: beamSize must be at least 1, got " + beamSize);
        }
        checkIds("src", src);
        boolean wasTraining = isTraining();
        eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return search(src, beamSize, lengthPenalty, maxExtra);
        } finally {
            train(wasTraining);
        }
    }

    private List<int[]> search(Tensor src, int k, double alpha, int maxExtra) {
        int n = src.size(0);
        int v = config.vocabSize();
        int eos = config.eosId();
        Memory memory = encode(src);
        long[] expand = new long[n * k];
        for (int i = 0; i < n * k; i++) {
            expand[i] = i / k;
        }
        DecoderState state = startDecoding(memory);
        if (k > 1) {
            state.select(Tensor.ofLongs(expand, n * k));
        }
        int rows = n * k;
        int[][] tokens = new int[rows][0]; // generated so far, per beam row
        double[] scores = new double[rows]; // cumulative log-probability
        for (int i = 0; i < rows; i++) {
            scores[i] = i % k == 0 ? 0 : Double.NEGATIVE_INFINITY; // one live beam at the start
        }
        List<List<Hypothesis>> finished = new ArrayList<>();
        boolean[] done = new boolean[n];
        int[] maxLen = maxLengths(src, maxExtra);
        int longest = Arrays.stream(maxLen).max().orElse(0);
        for (int s = 0; s < n; s++) {
            finished.add(new ArrayList<>());
        }
        long[] feed = new long[rows];
        Arrays.fill(feed, config.bosId());
        for (int step = 0; step < longest; step++) {
            float[] logits = decodeStep(Tensor.ofLongs(feed, rows, 1), state).toFloatArray(); // (rows, V)
            logSoftmaxRows(logits, rows, v);
            long[] reorder = new long[rows];
            int[][] nextTokens = new int[rows][];
            double[] nextScores = new double[rows];
            for (int s = 0; s < n; s++) {
                if (done[s]) {
                    for (int b = 0; b < k; b++) {
                        int row = s * k + b;
                        reorder[row] = row;
                        nextTokens[row] = tokens[row];
                        nextScores[row] = Double.NEGATIVE_INFINITY;
                        feed[row] = eos;
                    }
                    continue;
                }
                boolean last = step + 1 >= maxLen[s];
                int[] cand = topCandidates(logits, scores, s * k, k, v, 2 * k);
                int filled = 0;
                for (int c = 0; c < cand.length && filled < k; c++) {
                    int row = s * k + cand[c] / v;
                    int tok = cand[c] % v;
                    double score = scores[row] + logits[row * v + tok];
                    if (score == Double.NEGATIVE_INFINITY) {
                        break;
                    }
                    if (tok == eos || last) {
                        if (c < k) { // fairseq finishes eos only among the first beamSize candidates
                            int[] hyp = tok == eos ? tokens[row] : append(tokens[row], tok);
                            finished.get(s).add(new Hypothesis(hyp, score / penalty(hyp.length + 1, alpha)));
                        }
                        continue;
                    }
                    int dst = s * k + filled++;
                    reorder[dst] = row;
                    nextTokens[dst] = append(tokens[row], tok);
                    nextScores[dst] = score;
                    feed[dst] = tok;
                }
                for (int b = filled; b < k; b++) { // fewer live continuations than beams
                    int dst = s * k + b;
                    reorder[dst] = s * k;
                    nextTokens[dst] = tokens[s * k];
                    nextScores[dst] = Double.NEGATIVE_INFINITY;
                    feed[dst] = eos;
                }
                if (finished.get(s).size() >= k || last || filled == 0) {
                    done[s] = true;
                }
            }
            tokens = nextTokens;
            scores = nextScores;
            boolean all = true;
            for (boolean d : done) {
                all &= d;
            }
            if (all) {
                break;
            }
            if (k > 1) {
                state.select(Tensor.ofLongs(reorder, rows));
            }
        }
        List<int[]> out = new ArrayList<>(n);
        for (int s = 0; s < n; s++) {
            Hypothesis best = null;
            for (Hypothesis h : finished.get(s)) {
                if (best == null || h.score() > best.score()) {
                    best = h;
                }
            }
            out.add(best == null ? new int[0] : best.tokens());
        }
        return out;
    }

    private record Hypothesis(int[] tokens, double score) {}

    /** GNMT's length penalty ((5 + length) / 6)^α. */
    static double penalty(int length, double alpha) {
        return alpha == 0 ? 1 : Math.pow((5.0 + length) / 6.0, alpha);
    }

    private static int[] append(int[] a, int x) {
        int[] r = Arrays.copyOf(a, a.length + 1);
        r[a.length] = x;
        return r;
    }

    /** In place: each row of (rows, v) becomes its log-softmax (in double, rounded once). */
    private static void logSoftmaxRows(float[] x, int rows, int v) {
        for (int r = 0; r < rows; r++) {
            int o = r * v;
            double max = Double.NEGATIVE_INFINITY;
            for (int j = 0; j < v; j++) {
                max = Math.max(max, x[o + j]);
            }
            double sum = 0;
            for (int j = 0; j < v; j++) {
                sum += Math.exp(x[o + j] - max);
            }
            double lse = max + Math.log(sum);
            for (int j = 0; j < v; j++) {
                x[o + j] = (float) (x[o + j] - lse);
            }
        }
    }

    /**
     * The {@code count} best (beam, token) pairs of one sentence, as beam·v + token, ranked by
     * score desc then by that index asc (so ties go to the lower id, as argmax).
     */
    private static int[] topCandidates(float[] logp, double[] scores, int firstRow, int k, int v, int count) {
        int[] best = new int[count];
        double[] bestScore = new double[count];
        Arrays.fill(bestScore, Double.NEGATIVE_INFINITY);
        Arrays.fill(best, Integer.MAX_VALUE);
        for (int b = 0; b < k; b++) {
            double base = scores[firstRow + b];
            if (base == Double.NEGATIVE_INFINITY) {
                continue;
            }
            int o = (firstRow + b) * v;
            for (int t = 0; t < v; t++) {
                double sc = base + logp[o + t];
                if (sc <= bestScore[count - 1]) {
                    continue; // ties keep the earlier (lower) index
                }
                int idx = b * v + t;
                int p = count - 1;
                while (p > 0 && sc > bestScore[p - 1]) {
                    bestScore[p] = bestScore[p - 1];
                    best[p] = best[p - 1];
                    p--;
                }
                bestScore[p] = sc;
                best[p] = idx;
            }
        }
        int live = 0;
        while (live < count && bestScore[live] > Double.NEGATIVE_INFINITY) {
            live++;
        }
        return Arrays.copyOf(best, live);
    }

    @Override
    protected String extraRepr() {
        return "vocab=" + config.vocabSize() + ", d=" + config.dModel() + ", heads=" + config.nHead() + ", layers="
                + config.encoderLayers() + "+" + config.decoderLayers() + ", ffn=" + config.dimFeedforward()
                + ", dropout=" + config.dropout();
    }
}
