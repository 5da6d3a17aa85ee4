package dev.backprop.train;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.DataException;
import dev.backprop.data.DataLoader;
import dev.backprop.data.HoldOut;
import dev.backprop.data.LabeledTexts;
import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.models.Bert;
import dev.backprop.models.BertClassifier;
import dev.backprop.nn.F;
import dev.backprop.optim.AdamW;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.ParamGroup;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import dev.backprop.text.TokenDataset;
import dev.backprop.text.Tokenizer;
import dev.backprop.text.WordPieceTokenizer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.stream.IntStream;

/**
 * Fine-tunes a pre-trained BERT encoder (such as all-MiniLM-L6-v2 imported by
 * {@link dev.backprop.onnx.OnnxBertImport}) into a text classifier: a new linear head on the
 * mean-pooled token embeddings ({@link BertClassifier}), trained with AdamW and two parameter
 * groups (discriminative learning rates: the encoder's rate is lower than the head's), a linear
 * warm-up then linear decay, batches of similar lengths, and early stopping on a validation split
 * held out from the training texts (the best validation accuracy's weights are kept).
 *
 * <p>The encoder can stay frozen ({@link Options#freezeEncoder()}: only the head trains, the
 * sentence encoder is a fixed feature extractor), or be unfrozen after some epochs
 * ({@link Options#unfreezeAfter()}: gradual unfreezing, the head first settles on the frozen
 * features, then everything trains).
 *
 * <pre>{@code
 * var pre = OnnxBertImport.load(onnxFile);
 * var tok = WordPieceTokenizer.fromHuggingFace(tokenizerJson);
 * BertFineTuning clf = BertFineTuning.train(pre.model(), tok, LabeledTexts.read(train, opts),
 *         BertFineTuning.Options.defaults().withEpochs(4));
 * clf.predict("I lost my card", 3);
 * clf.save(runDir);     // model.safetensors, tokenizer.json, classifier.json
 * }</pre>
 */
public final class BertFineTuning {
    /** The configuration file in a saved folder. */
    public static final String CONFIG_FILE = "classifier.json";
    /** The tokenizer file in a saved folder. */
    public static final String TOKENIZER_FILE = "tokenizer.json";
    /** The weights file in a saved folder. */
    public static final String WEIGHTS_FILE = "model.safetensors";
    /** The {@code "model"} value of {@link #CONFIG_FILE}. */
    public static final String MODEL_NAME = "BertClassifier";

    private static final int BUCKET_POOL_BATCHES = 50;
    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BertFineTuning.class);

    /**
     * Training settings.
     *
     * @param maxLength the longest input in tokens, [CLS] and [SEP] included (longer texts are cut)
     * @param epochs the most epochs
     * @param batchSize texts per step
     * @param headLr the head's peak learning rate
     * @param encoderLr the encoder's peak learning rate (discriminative: lower than the head's)
     * @param weightDecay AdamW's decoupled weight decay
     * @param warmup the fraction of the steps spent warming the learning rates up linearly
     * @param dropout dropout on the pooled vector, in training (the encoder keeps its own
     *     {@code hiddenDropout}, 0.1 for an imported model)
     * @param freezeEncoder train the head only
     * @param unfreezeAfter with a frozen encoder, unfreeze it after this many epochs (0: never)
     * @param patience stop after this many epochs without a better validation accuracy (0: never)
     * @param validationFraction the share of the training texts held out for validation
     * @param seed the seed of the split, the head's initialisation, the order and dropout
     */
    public record Options(int maxLength, int epochs, int batchSize, double headLr, double encoderLr,
            double weightDecay, double warmup, float dropout, boolean freezeEncoder, int unfreezeAfter, int patience,
            double validationFraction, long seed) {
        /** Checks the values. */
        public Options {
            if (maxLength < 3 || epochs <= 0 || batchSize <= 0) {
                throw new IllegalArgumentException("BertFineTuning.Options: expected maxLength >= 3, epochs > 0 and "
                        + "batchSize > 0, got " + maxLength + ", " + epochs + ", " + batchSize);
            }
            if (!(headLr > 0) || !(encoderLr >= 0) || !(weightDecay >= 0) || !(warmup >= 0 && warmup < 1)
                    || !(dropout >= 0 && dropout < 1) || unfreezeAfter < 0 || patience < 0
                    || !(validationFraction >= 0 && validationFraction < 1)) {
                throw new IllegalArgumentException("BertFineTuning.Options: a value is out of range: headLr=" + headLr
                        + ", encoderLr=" + encoderLr + ", weightDecay=" + weightDecay + ", warmup=" + warmup
                        + ", dropout=" + dropout + ", unfreezeAfter=" + unfreezeAfter + ", patience=" + patience
                        + ", validationFraction=" + validationFraction);
            }
            if (unfreezeAfter > 0 && !freezeEncoder) {
                throw new IllegalArgumentException("BertFineTuning.Options: unfreezeAfter " + unfreezeAfter
                        + " needs a frozen encoder to start with (freezeEncoder true)");
            }
        }

        /**
         * Full fine-tuning of a small sentence encoder on short texts: 64 tokens, 3 epochs of batches
         * of 32, head 2e-3, encoder 1e-4, weight decay 0.01, 6% warm-up, dropout 0.1, patience 2,
         * 10% validation.
         */
        public static Options defaults() {
            return new Options(64, 3, 32, 2e-3, 1e-4, 0.01, 0.06, 0.1f, false, 0, 2, 0.1, 42);
        }

        /** With another number of epochs. */
        public Options withEpochs(int v) {
            return new Options(maxLength, v, batchSize, headLr, encoderLr, weightDecay, warmup, dropout, freezeEncoder,
                    unfreezeAfter, patience, validationFraction, seed);
        }

        /** With other learning rates (head, encoder). */
        public Options withLr(double head, double encoder) {
            return new Options(maxLength, epochs, batchSize, head, encoder, weightDecay, warmup, dropout, freezeEncoder,
                    unfreezeAfter, patience, validationFraction, seed);
        }

        /** With another batch size. */
        public Options withBatchSize(int v) {
            return new Options(maxLength, epochs, v, headLr, encoderLr, weightDecay, warmup, dropout, freezeEncoder,
                    unfreezeAfter, patience, validationFraction, seed);
        }

        /** With another maximum length. */
        public Options withMaxLength(int v) {
            return new Options(v, epochs, batchSize, headLr, encoderLr, weightDecay, warmup, dropout, freezeEncoder,
                    unfreezeAfter, patience, validationFraction, seed);
        }

        /** Frozen encoder, unfrozen after {@code unfreezeAfter} epochs (0: never). */
        public Options withFrozenEncoder(boolean frozen, int unfreezeAfter) {
            return new Options(maxLength, epochs, batchSize, headLr, encoderLr, weightDecay, warmup, dropout, frozen,
                    unfreezeAfter, patience, validationFraction, seed);
        }

        /** With another patience (0: no early stopping). */
        public Options withPatience(int v) {
            return new Options(maxLength, epochs, batchSize, headLr, encoderLr, weightDecay, warmup, dropout,
                    freezeEncoder, unfreezeAfter, v, validationFraction, seed);
        }

        /** With another validation fraction. */
        public Options withValidationFraction(double v) {
            return new Options(maxLength, epochs, batchSize, headLr, encoderLr, weightDecay, warmup, dropout,
                    freezeEncoder, unfreezeAfter, patience, v, seed);
        }

        /** With another seed. */
        public Options withSeed(long v) {
            return new Options(maxLength, epochs, batchSize, headLr, encoderLr, weightDecay, warmup, dropout,
                    freezeEncoder, unfreezeAfter, patience, validationFraction, v);
        }

        /** The settings as JSON-ready values (for a run's manifest). */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("max_length", maxLength);
            m.put("epochs", epochs);
            m.put("batch_size", batchSize);
            m.put("head_lr", headLr);
            m.put("encoder_lr", encoderLr);
            m.put("weight_decay", weightDecay);
            m.put("warmup", warmup);
            m.put("dropout", (double) dropout);
            m.put("freeze_encoder", freezeEncoder);
            m.put("unfreeze_after", unfreezeAfter);
            m.put("patience", patience);
            m.put("validation_fraction", validationFraction);
            m.put("seed", seed);
            return m;
        }
    }

    private final BertClassifier model;
    private final WordPieceTokenizer tokenizer;
    private final List<String> classes;
    private final int maxLength;
    private final History history;
    private final Evaluation validation;
    private final int trainingExamples;
    private final int validationExamples;
    private final int truncated;

    private BertFineTuning(BertClassifier model, WordPieceTokenizer tokenizer, List<String> classes, int maxLength,
            History history, Evaluation validation, int trainingExamples, int validationExamples, int truncated) {
        this.model = model;
        this.tokenizer = tokenizer;
        this.classes = List.copyOf(classes);
        this.maxLength = maxLength;
        this.history = history;
        this.validation = validation;
        this.trainingExamples = trainingExamples;
        this.validationExamples = validationExamples;
        this.truncated = truncated;
    }

    /**
     * Builds the optimizer of a classifier: two AdamW parameter groups, the encoder's at
     * {@code encoderLr} and the head's at {@code headLr} (biases and LayerNorm weights without
     * weight decay, as BERT fine-tuning does).
     */
    public static AdamW optimizer(BertClassifier model, Options o) {
        List<Tensor> encoderDecay = new ArrayList<>();
        List<Tensor> encoderNoDecay = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : model.bert().namedParameters().entrySet()) {
            boolean noDecay = e.getKey().endsWith(".bias") || e.getKey().contains("LayerNorm");
            (noDecay ? encoderNoDecay : encoderDecay).add(e.getValue());
        }
        List<ParamGroup> groups = new ArrayList<>();
        groups.add(new ParamGroup(model.head().parameters(), Map.of("lr", o.headLr(), "weight_decay", o.weightDecay())));
        groups.add(new ParamGroup(encoderDecay, Map.of("lr", o.encoderLr(), "weight_decay", o.weightDecay())));
        groups.add(new ParamGroup(encoderNoDecay, Map.of("lr", o.encoderLr(), "weight_decay", 0.0)));
        return new AdamW(groups, o.headLr(), 0.9, 0.999, 1e-8, o.weightDecay(), false);
    }

    /** Trains a classifier (see the class comment). */
    public static BertFineTuning train(Bert encoder, WordPieceTokenizer tokenizer, LabeledTexts data,
            Options options) {
        return train(encoder, tokenizer, data, options, List.of());
    }

    /**
     * Trains a classifier (see the class comment) with listeners watching the {@link Trainer}.
     * The encoder's weights are trained in place (unless frozen).
     *
     * @throws IllegalArgumentException if the held-out split leaves no training text
     */
    public static BertFineTuning train(Bert encoder, WordPieceTokenizer tokenizer, LabeledTexts data,
            Options options, List<TrainingListener> listeners) {
        Objects.requireNonNull(encoder, "encoder");
        Objects.requireNonNull(tokenizer, "tokenizer");
        Objects.requireNonNull(options, "options");
        if (tokenizer.vocabSize() != encoder.config().vocabSize()) {
            throw new IllegalArgumentException("the tokenizer has " + tokenizer.vocabSize() + " tokens but the encoder "
                    + encoder.config().vocabSize() + "; use the tokenizer.json that came with the model");
        }
        int maxLength = Math.min(options.maxLength(), encoder.config().maxPositions());
        Generator.defaultGenerator().manualSeed(options.seed());
        List<String> texts = data.texts();
        HoldOut.Split<Integer> split = HoldOut.split(IntStream.range(0, texts.size()).boxed().toList(), texts::get,
                options.validationFraction(), options.seed());
        if (split.train().isEmpty()) {
            throw new IllegalArgumentException("holding out " + options.validationFraction() + " of " + texts.size()
                    + " texts for validation left none for training; use more data or a smaller validation fraction");
        }
        int[] cut = new int[1];
        TokenDataset trainSet = encode(tokenizer, pick(texts, split.train()), pick(data.labels(), split.train()),
                maxLength, cut);
        TokenDataset valSet = split.test().isEmpty() ? null
                : encode(tokenizer, pick(texts, split.test()), pick(data.labels(), split.test()), maxLength, cut);

        BertClassifier model = new BertClassifier(encoder, data.numClasses(), tokenizer.padId(), options.dropout());
        if (options.freezeEncoder() && options.unfreezeAfter() == 0) {
            return trainHead(model, tokenizer, data, trainSet, valSet, options, listeners, maxLength, cut[0]);
        }
        if (options.freezeEncoder()) {
            encoder.freeze();
        } else {
            encoder.unfreeze();
        }
        AdamW optimizer = optimizer(model, options);
        DataLoader train = DataLoader.builder(trainSet).batchSize(options.batchSize()).seed(options.seed())
                .order(trainSet.bucketed(BUCKET_POOL_BATCHES)).build();
        long total = (long) train.numBatches() * options.epochs();
        long warm = Math.max(1, Math.round(total * options.warmup()));
        LRScheduler schedule = LRScheduler.of(optimizer, (t, base) -> t < warm ? base * (t + 1) / warm
                : base * Math.max(0.0, (double) (total - t) / Math.max(1, total - warm)));
        Trainer.Builder builder = Trainer.builder(model, optimizer, F::crossEntropy).epochs(options.epochs())
                .scheduler(schedule).numClasses(data.numClasses()).monitor("val_accuracy").diagnostics(false);
        if (valSet != null) {
            builder.listener(new EarlyStopping("val_accuracy", options.patience() == 0 ? Integer.MAX_VALUE
                    : options.patience(), 0, true));
        }
        if (options.freezeEncoder() && options.unfreezeAfter() > 0) {
            builder.listener(new TrainingListener() {
                @Override
                public void onEpochEnd(Trainer trainer, EpochReport epoch) {
                    if (epoch.epoch() + 1 == options.unfreezeAfter()) { // epochs count from 0
                        encoder.unfreeze();
                    }
                }
            });
        }
        listeners.forEach(builder::listener);
        Trainer trainer = builder.build();
        History history = trainer.fit(train, valSet == null ? null : loader(valSet));
        model.eval();
        encoder.unfreeze();
        Evaluation validation = valSet == null ? null : trainer.evaluate(loader(valSet));
        return new BertFineTuning(model, tokenizer, data.classes(), maxLength, history, validation, trainSet.size(),
                valSet == null ? 0 : valSet.size(), cut[0]);
    }

    /**
     * A frozen encoder is a fixed feature extractor: each text's mean-pooled embedding is computed
     * once (eval mode, no graph), and only the head trains, on those vectors.
     */
    private static BertFineTuning trainHead(BertClassifier model, WordPieceTokenizer tokenizer, LabeledTexts data,
            TokenDataset trainSet, TokenDataset valSet, Options options, List<TrainingListener> listeners,
            int maxLength, int truncated) {
        model.bert().freeze();
        Tensor trainFeatures = features(model, trainSet);
        Tensor valFeatures = valSet == null ? null : features(model, valSet);
        dev.backprop.nn.Module head = new dev.backprop.nn.Sequential(new dev.backprop.nn.Dropout(options.dropout()),
                model.head());
        AdamW optimizer = new AdamW(model.head().parameters(), options.headLr(), 0.9, 0.999, 1e-8,
                options.weightDecay());
        DataLoader train = DataLoader.builder(new dev.backprop.data.TensorDataset(trainFeatures, labels(trainSet)))
                .batchSize(options.batchSize()).shuffle(true).seed(options.seed()).build();
        long total = (long) train.numBatches() * options.epochs();
        long warm = Math.max(1, Math.round(total * options.warmup()));
        LRScheduler schedule = LRScheduler.of(optimizer, (t, base) -> t < warm ? base * (t + 1) / warm
                : base * Math.max(0.0, (double) (total - t) / Math.max(1, total - warm)));
        Trainer.Builder builder = Trainer.builder(head, optimizer, F::crossEntropy).epochs(options.epochs())
                .scheduler(schedule).numClasses(data.numClasses()).monitor("val_accuracy").diagnostics(false);
        if (valSet != null) {
            builder.listener(new EarlyStopping("val_accuracy", options.patience() == 0 ? Integer.MAX_VALUE
                    : options.patience(), 0, true));
        }
        listeners.forEach(builder::listener);
        Trainer trainer = builder.build();
        DataLoader val = valSet == null ? null : new DataLoader(new dev.backprop.data.TensorDataset(valFeatures,
                labels(valSet)), 1024, false, 0);
        History history = trainer.fit(train, val);
        model.eval();
        model.bert().unfreeze();
        Evaluation validation = val == null ? null : trainer.evaluate(val);
        return new BertFineTuning(model, tokenizer, data.classes(), maxLength, history, validation, trainSet.size(),
                valSet == null ? 0 : valSet.size(), truncated);
    }

    /** The mean-pooled embeddings (N, H) of a data set's texts, in its order, batches of similar lengths. */
    private static Tensor features(BertClassifier model, TokenDataset set) {
        int n = set.size();
        int h = model.bert().config().hiddenSize();
        Integer[] order = IntStream.range(0, n).boxed().toArray(Integer[]::new);
        Arrays.sort(order, (a, b) -> Integer.compare(set.sequence(a).length, set.sequence(b).length));
        float[] out = new float[n * h];
        long start = System.nanoTime();
        LOG.info("computing the frozen encoder's embeddings of {} texts", n);
        boolean wasTraining = model.isTraining();
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int from = 0; from < n; from += 64) {
                int[] idx = new int[Math.min(64, n - from)];
                for (int i = 0; i < idx.length; i++) {
                    idx[i] = order[from + i];
                }
                Tensor ids = set.get(idx).inputs();
                long[] v = ids.contiguous().toLongArray();
                float[] m = new float[v.length];
                for (int i = 0; i < v.length; i++) {
                    m[i] = v[i] == model.padId() ? 0f : 1f;
                }
                Tensor mask = Tensor.of(m, ids.shape());
                float[] pooled = Bert.meanPool(model.bert().encode(ids, mask), mask).contiguous().toFloatArray();
                for (int i = 0; i < idx.length; i++) {
                    System.arraycopy(pooled, i * h, out, idx[i] * h, h);
                }
                if ((from / 64) % 20 == 19) {
                    LOG.info("embeddings: {} of {} texts, {} s", from + idx.length, n,
                            Math.round((System.nanoTime() - start) / 1e9));
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return Tensor.of(out, n, h);
    }

    private static Tensor labels(TokenDataset set) {
        long[] l = new long[set.size()];
        for (int i = 0; i < l.length; i++) {
            l[i] = set.label(i);
        }
        return Tensor.ofLongs(l, l.length);
    }

    private static TokenDataset encode(WordPieceTokenizer tok, List<String> texts, int[] labels, int maxLength,
            int[] cut) {
        List<int[]> seqs = new ArrayList<>(texts.size());
        for (String t : texts) {
            int[] body = tok.encode(t);
            if (body.length > maxLength - 2) {
                cut[0]++;
            }
            seqs.add(tok.encodeForModel(t, maxLength));
        }
        return TokenDataset.of(seqs, labels, tok.padId(), maxLength);
    }

    private static DataLoader loader(TokenDataset data) {
        return DataLoader.builder(data).batchSize(128).order(data.bucketed(BUCKET_POOL_BATCHES)).build();
    }

    private static List<String> pick(List<String> items, List<Integer> at) {
        return at.stream().map(items::get).toList();
    }

    private static int[] pick(int[] items, List<Integer> at) {
        return at.stream().mapToInt(i -> items[i]).toArray();
    }

    // ------------------------------------------------------------------ use

    /**
     * Evaluates on labelled texts read with this classifier's classes: mean cross-entropy and the
     * confusion matrix with the class names.
     *
     * @throws IllegalArgumentException if the texts' classes are not this classifier's
     */
    public Evaluation evaluate(LabeledTexts data) {
        if (!data.classes().equals(classes)) {
            throw new IllegalArgumentException("the texts to evaluate have " + data.numClasses() + " classes that are "
                    + "not this classifier's " + classes.size() + "; read them with LabeledTexts.readLike(file, "
                    + "training, options) or readWithClasses(file, classes(), options)");
        }
        TokenDataset set = encode(tokenizer, data.texts(), data.labels(), maxLength, new int[1]);
        Trainer trainer = Trainer.builder(model, new dev.backprop.optim.SGD(model.parameters(), 0), F::crossEntropy)
                .numClasses(classes.size()).diagnostics(false).build();
        Evaluation e = trainer.evaluate(loader(set));
        return new Evaluation(e.loss(), e.examples(), e.confusion().withLabels(classes));
    }

    /** The {@code k} likeliest classes of a text, likeliest first. */
    public List<TextClassification.Prediction> predict(String text, int k) {
        return predict(List.of(text), k).get(0);
    }

    /**
     * The {@code k} likeliest classes of each text, likeliest first.
     *
     * @throws IllegalArgumentException if a text is blank (naming it), or k is not positive
     */
    public List<List<TextClassification.Prediction>> predict(List<String> texts, int k) {
        if (k <= 0) {
            throw new IllegalArgumentException("k must be positive, got " + k);
        }
        List<List<TextClassification.Prediction>> out = new ArrayList<>();
        if (texts.isEmpty()) {
            return out;
        }
        List<int[]> seqs = new ArrayList<>();
        for (int i = 0; i < texts.size(); i++) {
            String t = Objects.requireNonNull(texts.get(i), "text");
            if (t.isBlank()) {
                throw new IllegalArgumentException("text " + (texts.size() == 1 ? "" : i + " ") + "is empty"
                        + (t.isEmpty() ? "" : " (only whitespace)") + "; expected a text to classify");
            }
            seqs.add(tokenizer.encodeForModel(t, maxLength));
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
        for (int i = 0; i < texts.size(); i++) {
            int row = i;
            Integer[] order = IntStream.range(0, c).boxed().toArray(Integer[]::new);
            Arrays.sort(order, (a, b) -> Float.compare(p[row * c + b], p[row * c + a]));
            List<TextClassification.Prediction> top = new ArrayList<>();
            for (int j = 0; j < Math.min(k, c); j++) {
                top.add(new TextClassification.Prediction(order[j], classes.get(order[j]), p[row * c + order[j]]));
            }
            out.add(top);
        }
        return out;
    }

    // ------------------------------------------------------------------ saving

    /**
     * Writes the weights, the tokenizer and the configuration into {@code dir}.
     *
     * @throws UncheckedIOException if a file cannot be written
     */
    public void save(Path dir) {
        try {
            Files.createDirectories(dir);
            model.save(dir.resolve(WEIGHTS_FILE));
            tokenizer.save(dir.resolve(TOKENIZER_FILE));
            Map<String, Object> json = new LinkedHashMap<>();
            json.put("model", MODEL_NAME);
            json.put("bert", model.bert().config().toMap());
            json.put("pad_id", model.padId());
            json.put("max_length", maxLength);
            json.put("classes", classes);
            AtomicFiles.writeString(dir.resolve(CONFIG_FILE), Json.write(json) + "\n");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot save the classifier to " + dir + ": " + e.getMessage(), e);
        }
    }

    /** Whether a folder holds a classifier written by {@link #save}. */
    public static boolean isSaved(Path dir) {
        Path config = dir.resolve(CONFIG_FILE);
        if (!Files.isRegularFile(config)) {
            return false;
        }
        try {
            return MODEL_NAME.equals(Json.parseObject(Files.readString(config)).get("model"));
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * Reads a classifier written by {@link #save}.
     *
     * @throws DataException naming the file if one is missing or malformed
     */
    @SuppressWarnings("unchecked")
    public static BertFineTuning load(Path dir) {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weights = dir.resolve(WEIGHTS_FILE);
        for (Path p : List.of(configFile, dir.resolve(TOKENIZER_FILE), weights)) {
            if (!Files.isRegularFile(p)) {
                throw new DataException(p.toString(), "missing; expected a folder written by BertFineTuning.save "
                        + "(model.safetensors, tokenizer.json, classifier.json)");
            }
        }
        try {
            Map<String, Object> json = Json.parseObject(Files.readString(configFile));
            Bert.Config config;
            try {
                config = Bert.Config.fromMap((Map<String, Object>) json.get("bert"));
            } catch (IllegalArgumentException e) {
                throw new DataException(configFile.toString(), e.getMessage());
            }
            List<String> classes = new ArrayList<>();
            for (Object o : (List<Object>) json.get("classes")) {
                classes.add((String) o);
            }
            Tokenizer tok = Tokenizer.load(dir.resolve(TOKENIZER_FILE));
            if (!(tok instanceof WordPieceTokenizer wp)) {
                throw new DataException(dir.resolve(TOKENIZER_FILE).toString(), "a " + tok.type() + " tokenizer; "
                        + "expected the wordpiece tokenizer of a BERT encoder");
            }
            if (wp.vocabSize() != config.vocabSize()) {
                throw new DataException(dir.resolve(TOKENIZER_FILE).toString(), "a vocabulary of " + wp.vocabSize()
                        + " tokens but a model for " + config.vocabSize());
            }
            BertClassifier model = new BertClassifier(new Bert(config), classes.size(),
                    ((Number) json.get("pad_id")).intValue(), (float) config.hiddenDropout());
            model.load(weights);
            model.eval();
            return new BertFineTuning(model, wp, classes, ((Number) json.get("max_length")).intValue(), null, null, 0,
                    0, 0);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the classifier in " + dir + ": " + e.getMessage(), e);
        } catch (ClassCastException | NullPointerException e) {
            throw new DataException(configFile.toString(), "malformed (a missing or mistyped field: "
                    + e.getMessage() + "); expected the file BertFineTuning.save writes");
        }
    }

    // ------------------------------------------------------------------ accessors

    /** The network. */
    public BertClassifier model() {
        return model;
    }

    /** The tokenizer. */
    public WordPieceTokenizer tokenizer() {
        return tokenizer;
    }

    /** The class names, index = class id. */
    public List<String> classes() {
        return classes;
    }

    /** The longest input in tokens. */
    public int maxLength() {
        return maxLength;
    }

    /** The training history (null for a loaded classifier). */
    public History history() {
        return history;
    }

    /** The evaluation on the held-out validation texts with the kept weights (null when none). */
    public Evaluation validation() {
        return validation;
    }

    /** Training texts used. */
    public int trainingExamples() {
        return trainingExamples;
    }

    /** Validation texts held out. */
    public int validationExamples() {
        return validationExamples;
    }

    /** Texts cut to {@link #maxLength()}. */
    public int truncated() {
        return truncated;
    }
}
