package dev.backprop.models;

import dev.backprop.autograd.GradMode;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Init;
import dev.backprop.nn.LSTM;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Objects;

/**
 * A character-level LSTM language model, the W4 model of WORKLOADS.md, exactly as
 * {@code CharLSTM} in the PyTorch reference ({@code bench/torch/models.py}):
 * <pre>
 *   logits = head(lstm(emb(idx)).output)      emb: Embedding(vocab, emb), lstm: numLayers layers,
 *                                             batch_first, zero initial state; head: Linear(hidden, vocab)
 * </pre>
 * Every layer has PyTorch's default initialisation (embedding N(0, 1), LSTM and head uniform).
 * State-dict keys are PyTorch's: {@code emb.weight}, {@code lstm.weight_ih_l{k}},
 * {@code lstm.weight_hh_l{k}}, {@code lstm.bias_ih_l{k}}, {@code lstm.bias_hh_l{k}},
 * {@code head.weight}, {@code head.bias}.
 *
 * <pre>{@code
 * CharLSTM model = new CharLSTM(CharLSTM.Config.w4(), new Generator(1));
 * Tensor loss = Workloads.sequenceLoss(model.forward(idx), targets);   // idx, targets: int64 (B, T)
 * CharLSTM.Output out = model.forward(idx, state);                      // from a given state; out.state() is the final one
 * }</pre>
 *
 * <h2>Truncated backpropagation through time</h2>
 *
 * With {@link #carryState(boolean) carryState(true)}, {@link #forward(Tensor)} in training mode
 * starts each batch from the final (h, c) of the previous one, detached: its values are carried
 * over, the gradient stops at the batch border. Feed it consecutive chunks of the same streams
 * (batch row i of every batch continues row i of the previous one, as
 * {@link dev.backprop.data.StreamChunks} lays them out) and call {@link #resetState()} when the
 * streams start over. In eval mode, and without carrying, every forward starts from zeros.
 */
public class CharLSTM extends Module implements LanguageModel {

    /**
     * The model's sizes.
     *
     * @param vocabSize tokens (embedding rows, logits columns)
     * @param embeddingDim the embedding width (the LSTM's input size)
     * @param hiddenSize the LSTM's hidden size
     * @param numLayers stacked LSTM layers
     */
    public record Config(int vocabSize, int embeddingDim, int hiddenSize, int numLayers) {
        public Config {
            if (vocabSize <= 0 || embeddingDim <= 0 || hiddenSize <= 0 || numLayers <= 0) {
                throw new IllegalArgumentException("CharLSTM.Config: every size must be positive, got vocabSize="
                        + vocabSize + ", embeddingDim=" + embeddingDim + ", hiddenSize=" + hiddenSize + ", numLayers="
                        + numLayers);
            }
        }

        /** W4: vocab 65, embedding 128, hidden 256, 2 layers (946,625 parameters). */
        public static Config w4() {
            return new Config(65, 128, 256, 2);
        }
    }

    private final Config config;
    private final Embedding emb;
    private final LSTM lstm;
    private final Linear head;
    private boolean carryState;
    private LSTM.State carried; // the detached final state of the last training batch, (numLayers, B, hidden) each; null: zeros

    /**
     * Logits and the final state of the LSTM.
     *
     * @param logits (B, T, vocabSize)
     * @param state the final hidden and cell states, each (numLayers, B, hiddenSize); pass
     *     {@code state.detach()} to the next forward for truncated backpropagation through time
     */
    public record Output(Tensor logits, LSTM.State state) {}

    /** A model with PyTorch's default initialisation from the default generator. */
    public CharLSTM(Config config) {
        this(config, Generator.defaultGenerator());
    }

    /**
     * A model with PyTorch's default initialisation drawn from {@code gen} (embedding, then the
     * LSTM's parameters in order, then the head). With a generator other than the default one,
     * the default generator is left as it was.
     */
    public CharLSTM(Config config, Generator gen) {
        this.config = Objects.requireNonNull(config, "config");
        Objects.requireNonNull(gen, "gen");
        Generator dflt = Generator.defaultGenerator();
        long[] saved = gen == dflt ? null : dflt.state();
        try {
            emb = registerModule("emb", new Embedding(config.vocabSize(), config.embeddingDim()));
            lstm = registerModule("lstm", new LSTM(config.embeddingDim(), config.hiddenSize(),
                    LSTM.Options.defaults().withNumLayers(config.numLayers()).withBatchFirst(true)));
            head = registerModule("head", new Linear(config.hiddenSize(), config.vocabSize()));
        } finally {
            if (saved != null) {
                dflt.setState(saved);
            }
        }
        if (saved != null) { // the constructors above drew from the default generator already
            resetParameters(gen);
        }
    }

    /** PyTorch's default initialisation of every layer, drawn from {@code gen}. */
    public void resetParameters(Generator gen) {
        Init.normal(emb.weight(), 0, 1, gen);
        lstm.resetParameters(gen);
        Init.linearDefault(head.weight(), head.bias(), gen);
    }

    /**
     * Logits (B, T, vocabSize) for int64 token indices {@code idx} (B, T), from a zero initial
     * state, or, when {@link #carryState carrying} in training mode, from the carried state (see
     * the class comment). Use {@link #forward(Tensor)}.
     */
    @Override
    protected Tensor compute(Tensor idx) {
        if (!carryState || !isTraining()) {
            return run(idx, null).logits();
        }
        if (carried != null && carried.h().size(1) != idx.size(0)) {
            throw new IllegalStateException(describe() + ": the carried state holds " + carried.h().size(1)
                    + " streams but this batch has " + idx.size(0) + " rows; with carryState(true) every training "
                    + "batch must continue the same streams (a fixed batch size, no partial last batch: dropLast), "
                    + "or call resetState() first");
        }
        Output out = run(idx, carried);
        carried = out.state().detach(); // truncated BPTT: the next batch starts from these values, not this graph
        return out.logits();
    }

    /**
     * Logits (B, T, vocabSize) and the final state for int64 token indices {@code idx} (B, T),
     * starting from {@code state} (each (numLayers, B, hiddenSize)), or from zeros when it is null.
     * Gradients flow into {@code state} if it requires them; pass {@code state.detach()} to cut
     * them.
     */
    public Output forward(Tensor idx, LSTM.State state) {
        Output[] out = new Output[1];
        traced(idx, () -> {
            out[0] = run(idx, state);
            return out[0].logits();
        });
        return out[0];
    }

    private Output run(Tensor idx, LSTM.State state) {
        checkInput(idx.dtype() == DType.INT64 && idx.dim() == 2 && idx.size(1) >= 1, "int64 token indices (B, T)", idx);
        int b = idx.size(0);
        int t = idx.size(1);
        LSTM.Result r = lstm.forward(emb.forward(idx), state);
        Tensor h = r.output(); // (B, T, hidden)
        // the head on the (B·T, hidden) matrix: one matrix product (and one for its weight gradient)
        Tensor logits = head.forward(h.reshape(b * t, config.hiddenSize())).reshape(b, t, config.vocabSize());
        return new Output(logits, r.state());
    }

    /**
     * Whether {@link #forward(Tensor)} in training mode carries the state from one batch to the
     * next (truncated backpropagation through time, see the class comment). Switching clears the
     * carried state.
     */
    public CharLSTM carryState(boolean on) {
        this.carryState = on;
        this.carried = null;
        return this;
    }

    /** Whether the state is carried between training batches. */
    public boolean carriesState() {
        return carryState;
    }

    /** Forgets the carried state: the next training batch starts from zeros (a new epoch, new streams). */
    public void resetState() {
        carried = null;
    }

    /** The carried (detached) state the next training batch starts from, or null for zeros. */
    public LSTM.State carriedState() {
        return carried;
    }

    @Override
    public int vocabSize() {
        return config.vocabSize();
    }

    /** Unbounded: the recurrent state carries the whole past ({@link Integer#MAX_VALUE}). */
    @Override
    public int contextLength() {
        return Integer.MAX_VALUE;
    }

    /**
     * A decoding session: each feed runs the LSTM over the new tokens from the state the previous
     * feed ended in, so every token costs one step whatever the length of the text.
     */
    @Override
    public LanguageModel.Decoding decoding() {
        return new LanguageModel.Decoding() {
            private LSTM.State state; // null: zeros
            private long position;

            @Override
            public float[] feed(long... tokens) {
                if (tokens.length == 0) {
                    throw new IllegalArgumentException(describe() + ": feed at least one token");
                }
                for (long id : tokens) {
                    if (id < 0 || id >= config.vocabSize()) {
                        throw new IllegalArgumentException(describe() + ": token id " + id
                                + " is outside the vocabulary [0, " + config.vocabSize() + ")");
                    }
                }
                Output out = GradMode.noGrad(() -> run(Tensor.ofLongs(tokens.clone(), 1, tokens.length), state));
                state = out.state();
                position += tokens.length;
                Tensor logits = out.logits();
                return logits.select(1, logits.size(1) - 1).reshape(-1).toFloatArray();
            }

            @Override
            public long position() {
                return position;
            }
        };
    }

    public Config config() {
        return config;
    }

    public Embedding emb() {
        return emb;
    }

    public LSTM lstm() {
        return lstm;
    }

    public Linear head() {
        return head;
    }

    @Override
    protected String extraRepr() {
        return "vocab=" + config.vocabSize() + ", emb=" + config.embeddingDim() + ", hidden=" + config.hiddenSize()
                + ", layers=" + config.numLayers();
    }
}
