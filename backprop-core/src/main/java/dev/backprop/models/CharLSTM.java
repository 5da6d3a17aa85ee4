package dev.backprop.models;

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
 * }</pre>
 */
public class CharLSTM extends Module {

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
     * state. Use {@link #forward(Tensor)}.
     */
    @Override
    protected Tensor compute(Tensor idx) {
        checkInput(idx.dtype() == DType.INT64 && idx.dim() == 2 && idx.size(1) >= 1, "int64 token indices (B, T)", idx);
        int b = idx.size(0);
        int t = idx.size(1);
        Tensor h = lstm.forward(emb.forward(idx), null).output(); // (B, T, hidden)
        // the head on the (B·T, hidden) matrix: one matrix product (and one for its weight gradient)
        return head.forward(h.reshape(b * t, config.hiddenSize())).reshape(b, t, config.vocabSize());
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
