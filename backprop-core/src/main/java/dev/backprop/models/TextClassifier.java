package dev.backprop.models;

import dev.backprop.nn.Conv1d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Init;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.ModuleList;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A text classifier: token ids to class logits, a convolutional network over token embeddings
 * (Kim, "Convolutional Neural Networks for Sentence Classification", 2014) with masked pooling:
 * <pre>
 *   e      = dropout(emb(ids)) * mask                   (B, T, E)   padding rows zeroed
 *   c_k    = conv_k(e)           for each width k       (B, F, T+k-1)   zero padding k-1 on both sides
 *   p_k    = relu(max over positions whose window holds a real token of c_k)    (B, F)
 *   m      = masked mean of e over the real tokens      (B, E)      a bag of subwords
 *   logits = head(dropout([p_1, ..., p_K, m]))          (B, numClasses)
 * </pre>
 * Positions of {@code padId} are padding wherever they are; no padding reaches the logits, so a
 * sequence gives the same logits however much padding its batch adds (eval mode). A row of only
 * padding gives the logits of the head's bias.
 *
 * <p>Parameters: {@code emb.weight} (vocab, E), {@code convs.i.weight} (F, E, k_i),
 * {@code convs.i.bias} (F), {@code head.weight} (numClasses, K·F + E), {@code head.bias}.
 * Embeddings start N(0, 0.1²) with the padding row zero; the rest has PyTorch's defaults.
 *
 * <pre>{@code
 * var model = new TextClassifier(TextClassifier.Config.defaults(tok.vocabSize(), tok.padId(), 77));
 * Tensor logits = model.forward(batch.ids());   // (B, 77) from (B, T) int64 ids
 * }</pre>
 */
public final class TextClassifier extends Module {

    /**
     * The model's sizes.
     *
     * @param vocabSize token ids run from 0 to vocabSize - 1
     * @param padId the padding id, in {@code [0, vocabSize)}
     * @param numClasses the number of classes (logits)
     * @param embeddingDim E, the width of a token embedding
     * @param kernelWidths the convolution widths, in tokens (one convolution each)
     * @param filters F, the output channels of each convolution
     * @param embeddingDropout dropout on the token embeddings, in training
     * @param dropout dropout on the pooled features before the head, in training
     */
    public record Config(int vocabSize, int padId, int numClasses, int embeddingDim, List<Integer> kernelWidths,
            int filters, float embeddingDropout, float dropout) {
        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException naming the first value out of range
         */
        public Config {
            kernelWidths = List.copyOf(kernelWidths);
            if (vocabSize <= 0 || numClasses <= 0 || embeddingDim <= 0 || filters <= 0) {
                throw new IllegalArgumentException("TextClassifier.Config: vocabSize, numClasses, embeddingDim and "
                        + "filters must be positive, got " + vocabSize + ", " + numClasses + ", " + embeddingDim
                        + ", " + filters);
            }
            if (padId < 0 || padId >= vocabSize) {
                throw new IllegalArgumentException("TextClassifier.Config: padId must be in [0, " + vocabSize
                        + "), got " + padId + " (a tokenizer without a pad token has padId() -1: give it one)");
            }
            if (kernelWidths.isEmpty() || kernelWidths.stream().anyMatch(k -> k <= 0)) {
                throw new IllegalArgumentException("TextClassifier.Config: expected one or more positive kernel "
                        + "widths, got " + kernelWidths);
            }
            if (!(embeddingDropout >= 0 && embeddingDropout < 1 && dropout >= 0 && dropout < 1)) {
                throw new IllegalArgumentException("TextClassifier.Config: dropout must be in [0, 1), got "
                        + embeddingDropout + " (embeddings) and " + dropout);
            }
        }

        /** Embeddings of 192, widths 1, 2, 3 and 5 with 192 filters each, dropout 0.3 and 0.5. */
        public static Config defaults(int vocabSize, int padId, int numClasses) {
            return new Config(vocabSize, padId, numClasses, 192, List.of(1, 2, 3, 5), 192, 0.3f, 0.5f);
        }

        /** The width of the pooled features the head reads: K·F + E. */
        public int features() {
            return kernelWidths.size() * filters + embeddingDim;
        }

        /** This configuration as JSON-ready values (see {@link #fromMap}). */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("vocab_size", vocabSize);
            m.put("pad_id", padId);
            m.put("num_classes", numClasses);
            m.put("embedding_dim", embeddingDim);
            m.put("kernel_widths", kernelWidths);
            m.put("filters", filters);
            m.put("embedding_dropout", (double) embeddingDropout);
            m.put("dropout", (double) dropout);
            return m;
        }

        /**
         * A configuration from {@link #toMap()}'s form.
         *
         * @throws IllegalArgumentException naming a missing or malformed key
         */
        public static Config fromMap(Map<String, Object> m) {
            Object widths = m.get("kernel_widths");
            if (!(widths instanceof List<?> list)) {
                throw new IllegalArgumentException("TextClassifier config: expected a list \"kernel_widths\", got "
                        + widths);
            }
            List<Integer> k = new ArrayList<>();
            for (Object o : list) {
                k.add(((Number) o).intValue());
            }
            return new Config(number(m, "vocab_size").intValue(), number(m, "pad_id").intValue(),
                    number(m, "num_classes").intValue(), number(m, "embedding_dim").intValue(), k,
                    number(m, "filters").intValue(), number(m, "embedding_dropout").floatValue(),
                    number(m, "dropout").floatValue());
        }

        private static Number number(Map<String, Object> m, String key) {
            if (!(m.get(key) instanceof Number n)) {
                throw new IllegalArgumentException("TextClassifier config: expected a number \"" + key + "\", got "
                        + m.get(key));
            }
            return n;
        }
    }

    private static final float MASKED = -1e30f;

    private final Config config;
    private final Embedding emb;
    private final Dropout embeddingDropout;
    private final ModuleList convs;
    private final Dropout dropout;
    private final Linear head;

    /** A fresh model, drawing its initial weights from the default generator. */
    public TextClassifier(Config config) {
        this.config = Objects.requireNonNull(config, "config");
        emb = registerModule("emb", new Embedding(config.vocabSize(), config.embeddingDim(), config.padId()));
        Init.normal(emb.weight(), 0, 0.1);
        try (var ignored = dev.backprop.autograd.GradMode.noGrad()) {
            emb.weight().select(0, config.padId()).fill(0f);
        }
        embeddingDropout = registerModule("embedding_dropout", new Dropout(config.embeddingDropout()));
        convs = registerModule("convs", new ModuleList());
        for (int k : config.kernelWidths()) {
            convs.add(new Conv1d(config.embeddingDim(), config.filters(), k, 1, k - 1));
        }
        dropout = registerModule("dropout", new Dropout(config.dropout()));
        head = registerModule("head", new Linear(config.features(), config.numClasses()));
    }

    /**
     * Logits (B, numClasses) for int64 token ids (B, T). Use {@link #forward(Tensor)}.
     *
     * @throws IllegalArgumentException if the ids are not a (B, T) int64 tensor with T at least 1,
     *     or an id is outside the vocabulary (naming the row and position)
     */
    @Override
    protected Tensor compute(Tensor ids) {
        checkInput(ids.dtype() == DType.INT64 && ids.dim() == 2 && ids.size(1) >= 1, "int64 token ids (B, T)", ids);
        int b = ids.size(0);
        int t = ids.size(1);
        long[] id = ids.contiguous().toLongArray();
        boolean[] real = new boolean[b * t];
        float[] maskValues = new float[b * t];
        float[] inverseCount = new float[b];
        for (int i = 0; i < b; i++) {
            int count = 0;
            for (int j = 0; j < t; j++) {
                long v = id[i * t + j];
                if (v < 0 || v >= config.vocabSize()) {
                    throw new IllegalArgumentException(describe() + ": token id " + v + " at row " + i
                            + ", position " + j + " is outside the vocabulary [0, " + config.vocabSize() + ")");
                }
                real[i * t + j] = v != config.padId();
                maskValues[i * t + j] = real[i * t + j] ? 1f : 0f;
                count += real[i * t + j] ? 1 : 0;
            }
            inverseCount[i] = count == 0 ? 0f : 1f / count;
        }
        Tensor mask = Tensor.of(maskValues, b, t, 1);
        Tensor e = embeddingDropout.forward(emb.forward(ids)).mul(mask); // (B, T, E)
        Tensor x = e.transpose(1, 2); // (B, E, T)
        List<Tensor> pooled = new ArrayList<>();
        for (int c = 0; c < convs.size(); c++) {
            int k = config.kernelWidths().get(c);
            Tensor out = convs.get(c).forward(x); // (B, F, T + k - 1)
            Tensor invalid = Tensor.ofBools(windowsWithoutTokens(real, b, t, k), b, 1, t + k - 1);
            pooled.add(out.maskedFill(invalid, MASKED).max(2, false).relu()); // (B, F)
        }
        pooled.add(e.sum(1, false).mul(Tensor.of(inverseCount, b, 1))); // (B, E) masked mean
        return head.forward(dropout.forward(Tensor.cat(pooled, 1)));
    }

    /**
     * For a convolution of width k with k - 1 zero padding on both sides: which of the T + k - 1
     * output positions see no real token (output j covers inputs j - k + 1 .. j).
     */
    private static boolean[] windowsWithoutTokens(boolean[] real, int b, int t, int k) {
        int out = t + k - 1;
        boolean[] invalid = new boolean[b * out];
        for (int i = 0; i < b; i++) {
            int lastReal = Integer.MIN_VALUE / 2; // the last real input at or before position j
            for (int j = 0; j < out; j++) {
                if (j < t && real[i * t + j]) {
                    lastReal = j;
                }
                invalid[i * out + j] = lastReal < j - k + 1;
            }
        }
        return invalid;
    }

    /** The sizes this model was built with. */
    public Config config() {
        return config;
    }

    /** The token embedding. */
    public Embedding emb() {
        return emb;
    }

    /** The convolutions, one per kernel width, in the order of {@link Config#kernelWidths()}. */
    public List<Conv1d> convs() {
        List<Conv1d> out = new ArrayList<>();
        for (Module m : convs) {
            out.add((Conv1d) m);
        }
        return out;
    }

    /** The classification head. */
    public Linear head() {
        return head;
    }

    @Override
    protected String extraRepr() {
        return "vocab=" + config.vocabSize() + ", emb=" + config.embeddingDim() + ", widths=" + config.kernelWidths()
                + ", filters=" + config.filters() + ", classes=" + config.numClasses();
    }
}
