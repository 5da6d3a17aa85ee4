package dev.backprop.train;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.DataException;
import dev.backprop.data.DataLoader;
import dev.backprop.data.HoldOut;
import dev.backprop.data.LabeledTexts;
import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.models.TextClassifier;
import dev.backprop.nn.F;
import dev.backprop.optim.AdamW;
import dev.backprop.optim.LRScheduler;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import dev.backprop.text.BpeTokenizer;
import dev.backprop.text.SpecialTokens;
import dev.backprop.text.TokenDataset;
import dev.backprop.text.Tokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Text classification from scratch in a few lines: a byte-level BPE tokenizer trained on the
 * training texts, a {@link TextClassifier} (convolutions over subword embeddings with masked
 * pooling), AdamW with label smoothing, early stopping on a held-out part of the training file.
 *
 * <pre>{@code
 * var csv = LabeledTexts.Options.of("text", "category");
 * LabeledTexts train = LabeledTexts.read(Path.of("banking77-train.csv"), csv);
 * LabeledTexts test = LabeledTexts.readLike(Path.of("banking77-test.csv"), train,
 *         csv.withUnknownLabels(LabeledTexts.UnknownLabels.SKIP));
 * TextClassification clf = TextClassification.train(train, TextClassification.Options.defaults());
 * Evaluation result = clf.evaluate(test);              // accuracy, macro-F1, confusion matrix
 * clf.predict("I lost my card", 3);                    // the 3 likeliest classes with probabilities
 * clf.save(Path.of("intent-model"));                   // later: TextClassification.load(...)
 * }</pre>
 *
 * <h2>Training</h2>
 *
 * <ol>
 *   <li>{@link Options#validationFraction()} of the training texts are held out for validation
 *       by a hash of the (lower-cased) text ({@link HoldOut}), so duplicates stay on one side;
 *   <li>the tokenizer is learned on the rest only, lower-cased when {@link Options#lowercase()};
 *   <li>texts longer than {@link Options#maxLength()} tokens keep their first tokens (counted in
 *       {@link #truncated()});
 *   <li>the model trains for at most {@link Options#epochs()} epochs with a one-cycle schedule, in
 *       batches of texts of similar lengths ({@link TokenDataset#bucketed});
 *       validation accuracy is measured after each, training stops after
 *       {@link Options#patience()} epochs without improvement and the best epoch's weights are put
 *       back. Without validation it trains every epoch.
 * </ol>
 * The default random generator is seeded with {@link Options#seed()}: the same seed, data and
 * thread count give the same model.
 *
 * <h2>Saved form</h2>
 *
 * {@link #save} writes {@code model.safetensors}, {@code tokenizer.json} and
 * {@code classifier.json} (model configuration, classes, lower-casing, maximum length) into a
 * folder, such as a run folder; {@link #load} reads them back.
 */
public final class TextClassification {
    /** The file {@link #save} writes the configuration and classes to. */
    public static final String CONFIG_FILE = "classifier.json";
    /** The tokenizer file. */
    public static final String TOKENIZER_FILE = "tokenizer.json";
    /** The weights file. */
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** Batches whose texts are sorted by length together (see {@link TokenDataset#bucketed}). */
    private static final int BUCKET_POOL_BATCHES = 50;

    /**
     * Hyperparameters.
     *
     * @param vocabSize the BPE vocabulary before the pad token (256 bytes plus merges)
     * @param lowercase whether texts are lower-cased (training and prediction alike)
     * @param maxLength the most tokens of a text the model reads
     * @param embeddingDim the token embedding width
     * @param kernelWidths the convolution widths
     * @param filters the filters of each convolution
     * @param embeddingDropout dropout on the embeddings
     * @param dropout dropout before the head
     * @param labelSmoothing label smoothing of the cross-entropy
     * @param lr the peak learning rate of the one-cycle schedule
     * @param weightDecay AdamW's decoupled weight decay
     * @param batchSize training batch size
     * @param epochs the most epochs
     * @param patience epochs without a better validation accuracy before stopping (0: never stop early)
     * @param validationFraction the share of the training texts held out for validation, in [0, 0.5]
     * @param seed seeds the split, the initial weights, dropout and the batch order
     */
    public record Options(int vocabSize, boolean lowercase, int maxLength, int embeddingDim, List<Integer> kernelWidths,
            int filters, float embeddingDropout, float dropout, float labelSmoothing, double lr, double weightDecay,
            int batchSize, int epochs, int patience, double validationFraction, long seed) {

        /**
         * Checks the values.
         *
         * @throws IllegalArgumentException naming the first value out of range
         */
        public Options {
            kernelWidths = List.copyOf(kernelWidths);
            require(vocabSize >= BpeTokenizer.NUM_BYTES, "vocabSize", "at least " + BpeTokenizer.NUM_BYTES, vocabSize);
            require(maxLength > 0, "maxLength", "positive", maxLength);
            require(batchSize > 0, "batchSize", "positive", batchSize);
            require(epochs > 0, "epochs", "positive", epochs);
            require(patience >= 0, "patience", "0 or more", patience);
            require(lr > 0, "lr", "positive", lr);
            require(weightDecay >= 0, "weightDecay", "0 or more", weightDecay);
            require(labelSmoothing >= 0 && labelSmoothing < 1, "labelSmoothing", "in [0, 1)", labelSmoothing);
            require(validationFraction >= 0 && validationFraction <= 0.5, "validationFraction", "in [0, 0.5]",
                    validationFraction);
        }

        private static void require(boolean ok, String name, String expected, Object got) {
            if (!ok) {
                throw new IllegalArgumentException("TextClassification.Options: " + name + " must be " + expected
                        + ", got " + got);
            }
        }

        /**
         * The tuned defaults (for Banking77: 77 intents, 10k short queries): BPE 6000 lower-cased,
         * at most 64 tokens, {@link TextClassifier.Config#defaults}'s sizes, label smoothing 0.1,
         * AdamW lr 2e-3 and weight decay 0.01, batch 64, at most 15 epochs with patience 5, 10%
         * held out, seed 42.
         */
        public static Options defaults() {
            return new Options(6000, true, 64, 192, List.of(1, 2, 3, 5), 192, 0.3f, 0.5f, 0.1f, 2e-3, 0.01, 64,
                    15, 5, 0.1, 42);
        }

        public Options withVocabSize(int v) {
            return new Options(v, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddingDropout, dropout,
                    labelSmoothing, lr, weightDecay, batchSize, epochs, patience, validationFraction, seed);
        }

        public Options withMaxLength(int v) {
            return new Options(vocabSize, lowercase, v, embeddingDim, kernelWidths, filters, embeddingDropout, dropout,
                    labelSmoothing, lr, weightDecay, batchSize, epochs, patience, validationFraction, seed);
        }

        /** These options with another model size: embedding width, kernel widths, filters per width. */
        public Options withModel(int embedding, List<Integer> widths, int filtersPerWidth) {
            return new Options(vocabSize, lowercase, maxLength, embedding, widths, filtersPerWidth, embeddingDropout,
                    dropout, labelSmoothing, lr, weightDecay, batchSize, epochs, patience, validationFraction, seed);
        }

        public Options withDropout(float embeddings, float features) {
            return new Options(vocabSize, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddings,
                    features, labelSmoothing, lr, weightDecay, batchSize, epochs, patience, validationFraction, seed);
        }

        public Options withLr(double v) {
            return new Options(vocabSize, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddingDropout,
                    dropout, labelSmoothing, v, weightDecay, batchSize, epochs, patience, validationFraction, seed);
        }

        public Options withBatchSize(int v) {
            return new Options(vocabSize, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddingDropout,
                    dropout, labelSmoothing, lr, weightDecay, v, epochs, patience, validationFraction, seed);
        }

        public Options withEpochs(int v) {
            return new Options(vocabSize, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddingDropout,
                    dropout, labelSmoothing, lr, weightDecay, batchSize, v, patience, validationFraction, seed);
        }

        public Options withPatience(int v) {
            return new Options(vocabSize, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddingDropout,
                    dropout, labelSmoothing, lr, weightDecay, batchSize, epochs, v, validationFraction, seed);
        }

        public Options withValidationFraction(double v) {
            return new Options(vocabSize, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddingDropout,
                    dropout, labelSmoothing, lr, weightDecay, batchSize, epochs, patience, v, seed);
        }

        public Options withSeed(long v) {
            return new Options(vocabSize, lowercase, maxLength, embeddingDim, kernelWidths, filters, embeddingDropout,
                    dropout, labelSmoothing, lr, weightDecay, batchSize, epochs, patience, validationFraction, v);
        }

        /** The options as JSON-ready values, for a run's manifest. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("tokenizer", "bpe");
            m.put("vocab_size", vocabSize);
            m.put("lowercase", lowercase);
            m.put("max_length", maxLength);
            m.put("embedding_dim", embeddingDim);
            m.put("kernel_widths", kernelWidths);
            m.put("filters", filters);
            m.put("embedding_dropout", (double) embeddingDropout);
            m.put("dropout", (double) dropout);
            m.put("label_smoothing", (double) labelSmoothing);
            m.put("optimizer", "AdamW");
            m.put("lr", lr);
            m.put("weight_decay", weightDecay);
            m.put("schedule", "one-cycle");
            m.put("batch_size", batchSize);
            m.put("epochs", epochs);
            m.put("patience", patience);
            m.put("validation_fraction", validationFraction);
            m.put("seed", seed);
            return m;
        }
    }

    /**
     * One predicted class.
     *
     * @param index the class index
     * @param label the class name
     * @param probability the softmax probability
     */
    public record Prediction(int index, String label, double probability) {}

    private final TextClassifier model;
    private final Tokenizer tokenizer;
    private final List<String> classes;
    private final boolean lowercase;
    private final int maxLength;
    private final History history;
    private final Evaluation validation;
    private final int trainingExamples;
    private final int validationExamples;
    private final int truncated;

    private TextClassification(TextClassifier model, Tokenizer tokenizer, List<String> classes, boolean lowercase,
            int maxLength, History history, Evaluation validation, int trainingExamples, int validationExamples,
            int truncated) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.classes = List.copyOf(classes);
        this.lowercase = lowercase;
        this.maxLength = maxLength;
        this.history = history;
        this.validation = validation;
        this.trainingExamples = trainingExamples;
        this.validationExamples = validationExamples;
        this.truncated = truncated;
    }

    /** Trains a classifier on labelled texts (see the class comment). */
    public static TextClassification train(LabeledTexts data, Options options) {
        return train(data, options, List.of());
    }

    /**
     * Trains a classifier on labelled texts (see the class comment), with listeners watching the
     * {@link Trainer} (a {@link ProgressBar}, a {@link MetricsLog}).
     *
     * @throws IllegalArgumentException if the held-out split leaves no training text
     */
    public static TextClassification train(LabeledTexts data, Options options, List<TrainingListener> listeners) {
        Objects.requireNonNull(data, "data");
        Objects.requireNonNull(options, "options");
        Generator.defaultGenerator().manualSeed(options.seed());
        List<String> texts = normalize(data.texts(), options.lowercase());
        int[] labels = data.labels();
        HoldOut.Split<Integer> split = HoldOut.split(IntStream.range(0, texts.size()).boxed().toList(), texts::get,
                options.validationFraction(), options.seed());
        if (split.train().isEmpty()) {
            throw new IllegalArgumentException("holding out " + options.validationFraction() + " of " + texts.size()
                    + " texts for validation left none for training; use more data or a smaller validation fraction");
        }
        List<String> trainTexts = pick(texts, split.train());
        BpeTokenizer tokenizer = BpeTokenizer.train(trainTexts, options.vocabSize(),
                SpecialTokens.NONE.withPad("<pad>"));
        TokenDataset trainSet = TokenDataset.encode(tokenizer, trainTexts, pick(labels, split.train()),
                options.maxLength());
        TokenDataset valSet = split.test().isEmpty() ? null
                : TokenDataset.encode(tokenizer, pick(texts, split.test()), pick(labels, split.test()),
                        options.maxLength());

        TextClassifier model = new TextClassifier(new TextClassifier.Config(tokenizer.vocabSize(), tokenizer.padId(),
                data.numClasses(), options.embeddingDim(), options.kernelWidths(), options.filters(),
                options.embeddingDropout(), options.dropout()));
        AdamW optimizer = new AdamW(model.parameters(), options.lr(), 0.9, 0.999, 1e-8, options.weightDecay());
        // batches of similar lengths: a random batch is as long as its longest text, about twice the mean
        DataLoader train = DataLoader.builder(trainSet).batchSize(options.batchSize()).seed(options.seed())
                .order(trainSet.bucketed(BUCKET_POOL_BATCHES)).build();
        LRScheduler schedule = LRScheduler.oneCycle(optimizer, options.lr(), train.numBatches() * options.epochs(),
                0.1, 25, 1e3);
        F.ClassLossOptions lossOptions = F.ClassLossOptions.defaults().withLabelSmoothing(options.labelSmoothing());
        Trainer.Builder builder = Trainer.builder(model, optimizer, (o, t) -> F.crossEntropy(o, t, lossOptions))
                .epochs(options.epochs()).scheduler(schedule).numClasses(data.numClasses()).monitor("val_accuracy");
        EarlyStopping early = null;
        if (valSet != null) {
            early = new EarlyStopping("val_accuracy", options.patience() == 0 ? Integer.MAX_VALUE : options.patience(),
                    0, true);
            builder.listener(early);
        }
        listeners.forEach(builder::listener);
        Trainer trainer = builder.build();
        History history = trainer.fit(train, valSet == null ? null : loader(valSet));
        model.eval();
        Evaluation validation = valSet == null ? null : trainer.evaluate(loader(valSet));
        return new TextClassification(model, tokenizer, data.classes(), options.lowercase(), options.maxLength(),
                history, validation, trainSet.size(), valSet == null ? 0 : valSet.size(),
                trainSet.truncated() + (valSet == null ? 0 : valSet.truncated()));
    }

    private static DataLoader loader(TokenDataset data) {
        return new DataLoader(data, 256, false, 0);
    }

    private static List<String> normalize(List<String> texts, boolean lowercase) {
        List<String> out = new ArrayList<>(texts.size());
        for (String t : texts) {
            out.add(normalize(t, lowercase));
        }
        return out;
    }

    private static String normalize(String text, boolean lowercase) {
        String s = text.strip();
        return lowercase ? s.toLowerCase(Locale.ROOT) : s;
    }

    private static List<String> pick(List<String> items, List<Integer> at) {
        return at.stream().map(items::get).toList();
    }

    private static int[] pick(int[] items, List<Integer> at) {
        return at.stream().mapToInt(i -> items[i]).toArray();
    }

    // ------------------------------------------------------------------ use

    /**
     * Evaluates on labelled texts read with this classifier's classes
     * ({@link LabeledTexts#readLike}): mean cross-entropy (without label smoothing), and the
     * confusion matrix with the class names.
     *
     * @throws IllegalArgumentException if the texts' classes are not this classifier's
     */
    public Evaluation evaluate(LabeledTexts data) {
        if (!data.classes().equals(classes)) {
            throw new IllegalArgumentException("the texts to evaluate have " + data.numClasses() + " classes that are "
                    + "not this classifier's " + classes.size() + "; read them with LabeledTexts.readLike(file, "
                    + "training, options) so that they share the training file's classes");
        }
        TokenDataset set = TokenDataset.encode(tokenizer, normalize(data.texts(), lowercase), data.labels(), maxLength);
        Trainer trainer = Trainer.builder(model, new dev.backprop.optim.SGD(model.parameters(), 0), F::crossEntropy)
                .numClasses(classes.size()).diagnostics(false).build();
        Evaluation e = trainer.evaluate(loader(set));
        return new Evaluation(e.loss(), e.examples(), e.confusion().withLabels(classes));
    }

    /**
     * The {@code k} likeliest classes of a text, likeliest first.
     *
     * @throws IllegalArgumentException if the text is empty or blank, or k is not positive
     */
    public List<Prediction> predict(String text, int k) {
        return predict(List.of(text), k).get(0);
    }

    /**
     * The {@code k} likeliest classes of each text, likeliest first, in one batch.
     *
     * @throws IllegalArgumentException if a text is empty or blank (naming it), or k is not positive
     */
    public List<List<Prediction>> predict(List<String> texts, int k) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        if (texts.isEmpty()) {
            return List.of();
        }
        List<int[]> seqs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String t = Objects.requireNonNull(texts.get(i), "text");
            if (t.isBlank()) {
                throw new IllegalArgumentException("text " + (texts.size() == 1 ? "" : i + " ") + "is empty"
                        + (t.isEmpty() ? "" : " (only whitespace)") + "; expected a text to classify");
            }
            seqs.add(tokenizer.encode(normalize(t, lowercase)));
        }
        TokenDataset set = TokenDataset.of(seqs, new int[seqs.size()], tokenizer.padId(), maxLength);
        Tensor probs;
        boolean wasTraining = model.isTraining();
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            probs = model.forward(set.all().inputs()).softmax(1);
        } finally {
            model.train(wasTraining);
        }
        int c = classes.size();
        float[] p = probs.contiguous().toFloatArray();
        List<List<Prediction>> out = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            int row = i;
            Integer[] order = IntStream.range(0, c).boxed().toArray(Integer[]::new);
            Arrays.sort(order, (a, b) -> Float.compare(p[row * c + b], p[row * c + a]));
            List<Prediction> top = new ArrayList<>();
            for (int j = 0; j < Math.min(k, c); j++) {
                top.add(new Prediction(order[j], classes.get(order[j]), p[row * c + order[j]]));
            }
            out.add(top);
        }
        return out;
    }

    // ------------------------------------------------------------------ saving

    /**
     * Writes the weights, the tokenizer and the configuration into {@code dir} (created if needed).
     *
     * @throws UncheckedIOException if a file cannot be written
     */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
            model.save(dir.resolve(WEIGHTS_FILE));
            tokenizer.save(dir.resolve(TOKENIZER_FILE));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", "TextClassifier");
            json.put("config", model.config().toMap());
            json.put("lowercase", lowercase);
            json.put("max_length", maxLength);
            json.put("classes", classes);
            AtomicFiles.writeString(dir.resolve(CONFIG_FILE), Json.write(json) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the text classifier to " + dir + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reads a classifier written by {@link #save} (a run folder of the {@code intent} recipe).
     *
     * @throws DataException naming the file if one is missing or malformed
     */
    @SuppressWarnings("unchecked")
    public static TextClassification load(Path dir) {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weights = dir.resolve(WEIGHTS_FILE);
        for (Path p : List.of(configFile, dir.resolve(TOKENIZER_FILE), weights)) {
            if (!Files.isRegularFile(p)) {
                throw new DataException(p.toString(), "missing; expected a folder written by TextClassification.save "
                        + "(model.safetensors, tokenizer.json, classifier.json)");
            }
        }
        try {
            Map<String, Object> json = Json.parseObject(Files.readString(configFile));
            TextClassifier.Config config;
            try {
                config = TextClassifier.Config.fromMap((Map<String, Object>) json.get("config"));
            } catch (IllegalArgumentException e) {
                throw new DataException(configFile.toString(), e.getMessage());
            }
            List<String> classes = new ArrayList<>();
            for (Object o : (List<Object>) json.get("classes")) {
                classes.add((String) o);
            }
            if (classes.size() != config.numClasses()) {
                throw new DataException(configFile.toString(), classes.size() + " classes but a model for "
                        + config.numClasses());
            }
            Tokenizer tokenizer = Tokenizer.load(dir.resolve(TOKENIZER_FILE));
            if (tokenizer.vocabSize() != config.vocabSize()) {
                throw new DataException(dir.resolve(TOKENIZER_FILE).toString(), "a vocabulary of "
                        + tokenizer.vocabSize() + " tokens but a model for " + config.vocabSize());
            }
            TextClassifier model = new TextClassifier(config);
            model.load(weights);
            model.eval();
            return new TextClassification(model, tokenizer, classes, Boolean.TRUE.equals(json.get("lowercase")),
                    ((Number) json.get("max_length")).intValue(), null, null, 0, 0, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the text classifier in " + dir + ": " + e.getMessage(), e);
        } catch (ClassCastException | NullPointerException e) {
            throw new DataException(configFile.toString(), "malformed (a missing or mistyped field: "
                    + e.getMessage() + "); expected the file TextClassification.save writes");
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The network. */
    public TextClassifier model() {
        return model;
    }

    /** The tokenizer (ids of the lower-cased text when {@link #lowercase()}). */
    public Tokenizer tokenizer() {
        return tokenizer;
    }

    /** The class names: class i is {@code classes().get(i)}. */
    public List<String> classes() {
        return classes;
    }

    /** Whether texts are lower-cased before tokenizing. */
    public boolean lowercase() {
        return lowercase;
    }

    /** The most tokens of a text the model reads. */
    public int maxLength() {
        return maxLength;
    }

    /** The training history (epochs, stop reason), or null for a loaded classifier. */
    public History history() {
        return history;
    }

    /** The evaluation on the held-out validation texts with the final weights, or null without them. */
    public Evaluation validation() {
        return validation;
    }

    /** Texts trained on (the training file less the validation texts); 0 for a loaded classifier. */
    public int trainingExamples() {
        return trainingExamples;
    }

    /** Texts held out for validation. */
    public int validationExamples() {
        return validationExamples;
    }

    /** Training and validation texts longer than the maximum length, cut. */
    public int truncated() {
        return truncated;
    }
}
