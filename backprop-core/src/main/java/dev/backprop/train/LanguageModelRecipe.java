package dev.backprop.train;

import dev.backprop.data.Batch;
import dev.backprop.data.CharVocab;
import dev.backprop.data.DataLoader;
import dev.backprop.data.MersenneTwister;
import dev.backprop.data.RandomWindows;
import dev.backprop.data.StreamChunks;
import dev.backprop.data.TensorDataset;
import dev.backprop.data.TextCorpus;
import dev.backprop.data.WindowSampler;
import dev.backprop.io.Json;
import dev.backprop.models.CharLSTM;
import dev.backprop.models.GPT;
import dev.backprop.models.LanguageModel;
import dev.backprop.models.Workloads;
import dev.backprop.nn.Module;
import dev.backprop.optim.Adam;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Character-level language models trained on any text, through the {@link Trainer} (so the
 * gradient-flow monitor, the doctor, metrics, checkpoints and resumption work as for any run).
 *
 * <pre>{@code
 * TextCorpus corpus = TextCorpus.read(textFile);
 * var recipe = LanguageModelRecipe.charGpt(corpus, LanguageModelRecipe.Options.charGpt());
 * LanguageModelRecipe.Result result = recipe.train(new ProgressBar());
 * }</pre>
 *
 * <h2>{@code char-gpt}: the Q2 protocol of WORKLOADS.md</h2>
 *
 * The W3 model ({@link GPT}, 4 layers, 4 heads, d 128, context 64) with the text's vocabulary (its
 * sorted distinct characters); every step a batch of 12 windows of 64 characters at random
 * positions of the training part (the first 90%; {@link RandomWindows}, seeded with the seed);
 * AdamW (betas 0.9/0.99, weight decay 0.1 on every parameter), gradient norm clipped to 1.0; the
 * learning rate warms up linearly over 100 iterations to 1e-3, then decays along a cosine to 1e-4 at
 * the last iteration (nanoGPT's {@code get_lr}, {@link LRScheduler#linearWarmupCosineDecay}); 2000
 * iterations. The model is initialised from {@code new Generator(seed)}.
 *
 * <h2>{@code char-lstm}: W4 with truncated backpropagation through time</h2>
 *
 * The W4 model ({@link CharLSTM}: embedding 128, 2-layer LSTM 256) with the text's vocabulary; the
 * training part is cut into 32 parallel streams ({@link StreamChunks}) and each step trains on the
 * next 64-character chunk of every stream, the LSTM state carried from chunk to chunk and detached
 * at the border ({@link CharLSTM#carryState}), and reset to zeros at the start of every epoch (a pass
 * over the streams); Adam 1e-3, constant; gradient norm clipped to 1.0; 2000 iterations. The
 * carried state is not part of a checkpoint: a run resumed in the middle of an epoch restarts its
 * streams from a zero state there, so unlike char-gpt it does not end bit for bit where an
 * uninterrupted run would.
 *
 * <h2>Validation, the same for both</h2>
 *
 * The mean loss over 20 batches of random windows of the validation part (the last 10%), drawn
 * once and kept fixed, so every validation of a run, and runs of either model with the same seed,
 * are measured on the same characters. Every 500 iterations and after the last. The windows are
 * those on which PyTorch's reference ({@code quality.py q2}) takes its final estimate: the same
 * {@code torch.randint} draws from {@code torch.Generator().manual_seed(1000 + seed)}
 * ({@link MersenneTwister} replays it), after the draws of the estimates it makes every 500
 * iterations before the last — a run and the reference are scored on the same characters, which
 * takes the sampling noise of a 20-batch estimate (about ±0.01 here) out of the comparison. The LSTM is validated from a zero state for each window, like the
 * transformer, which sees nothing before its window either. {@link Result#trainLoss()} is the
 * same estimate on 20 random training batches (the next draws of that generator), after training.
 *
 * @param <M> the model's type: {@link GPT} or {@link CharLSTM}
 */
public final class LanguageModelRecipe<M extends Module & LanguageModel> {
    /** The transformer recipe's name. */
    public static final String CHAR_GPT = "char-gpt";
    /** The LSTM recipe's name. */
    public static final String CHAR_LSTM = "char-lstm";

    /**
     * The recipe's settings.
     *
     * @param iters optimizer steps
     * @param batchSize windows per step (char-lstm: the parallel streams)
     * @param contextLength characters per window (char-gpt: also the model's context length)
     * @param lr the learning rate (char-gpt: the peak, reached after the warm-up)
     * @param minLr the learning rate at the last iteration; equal to {@code lr} with
     *     {@code warmupIters} 0 for a constant rate
     * @param warmupIters iterations of linear warm-up
     * @param clipGradNorm the gradient-norm clip (0: none)
     * @param evalEvery validate every this many iterations (and after the last)
     * @param evalBatches batches of random validation windows in each validation
     * @param seed the seed of the initialisation, the training windows and (as {@code 1000 + seed})
     *     the validation windows
     */
    public record Options(int iters, int batchSize, int contextLength, double lr, double minLr, int warmupIters,
            double clipGradNorm, int evalEvery, int evalBatches, long seed) {
        public Options {
            if (iters <= 0 || batchSize <= 0 || contextLength <= 0 || evalEvery <= 0 || evalBatches <= 0) {
                throw new IllegalArgumentException("LanguageModelRecipe.Options: iters, batchSize, contextLength, "
                        + "evalEvery and evalBatches must be positive, got iters=" + iters + ", batchSize="
                        + batchSize + ", contextLength=" + contextLength + ", evalEvery=" + evalEvery
                        + ", evalBatches=" + evalBatches);
            }
            if (!(lr > 0) || !(minLr > 0) || minLr > lr || warmupIters < 0 || !(clipGradNorm >= 0)) {
                throw new IllegalArgumentException("LanguageModelRecipe.Options: expected 0 < minLr <= lr, warmupIters"
                        + " >= 0 and clipGradNorm >= 0, got lr=" + lr + ", minLr=" + minLr + ", warmupIters="
                        + warmupIters + ", clipGradNorm=" + clipGradNorm);
            }
        }

        /** Q2: 2000 iterations, batch 12, context 64, lr 1e-3 → 1e-4 with 100 warm-up iterations, clip 1.0, seed 0. */
        public static Options charGpt() {
            return new Options(2000, 12, 64, 1e-3, 1e-4, 100, 1.0, 500, 20, 0);
        }

        /** W4 with TBPTT: 2000 iterations, 32 streams, chunks of 64, Adam 1e-3 constant, clip 1.0, seed 0. */
        public static Options charLstm() {
            return new Options(2000, 32, 64, 1e-3, 1e-3, 0, 1.0, 500, 20, 0);
        }

        public Options withIters(int n) {
            return new Options(n, batchSize, contextLength, lr, minLr, warmupIters, clipGradNorm, evalEvery,
                    evalBatches, seed);
        }

        public Options withBatchSize(int n) {
            return new Options(iters, n, contextLength, lr, minLr, warmupIters, clipGradNorm, evalEvery,
                    evalBatches, seed);
        }

        /** Another peak learning rate; a constant schedule ({@code minLr == lr}) stays constant. */
        public Options withLr(double rate) {
            double min = minLr == lr ? rate : Math.min(minLr, rate);
            return new Options(iters, batchSize, contextLength, rate, min, warmupIters, clipGradNorm, evalEvery,
                    evalBatches, seed);
        }

        public Options withEvalEvery(int n) {
            return new Options(iters, batchSize, contextLength, lr, minLr, warmupIters, clipGradNorm, n,
                    evalBatches, seed);
        }

        public Options withEvalBatches(int n) {
            return new Options(iters, batchSize, contextLength, lr, minLr, warmupIters, clipGradNorm, evalEvery, n,
                    seed);
        }

        public Options withSeed(long s) {
            return new Options(iters, batchSize, contextLength, lr, minLr, warmupIters, clipGradNorm, evalEvery,
                    evalBatches, s);
        }

        /** Whether the learning rate follows a warm-up and cosine decay rather than staying constant. */
        public boolean scheduled() {
            return warmupIters > 0 || minLr < lr;
        }
    }

    /**
     * What a training run gave.
     *
     * @param valLoss the final validation loss (mean over the fixed validation batches)
     * @param trainLoss the same estimate on random training batches, after training
     * @param steps optimizer steps taken (by this and earlier, resumed, runs)
     * @param trainSeconds time in training steps only (data, forward, backward, update; not validation)
     * @param wallSeconds the whole {@link #fit}, validation and estimates included
     * @param validations (step, validation loss) of every validation of this fit, in order
     * @param history the trainer's history
     */
    public record Result(double valLoss, double trainLoss, long steps, double trainSeconds, double wallSeconds,
            List<double[]> validations, History history) {}

    private final String name;
    private final TextCorpus corpus;
    private final Options options;
    private final M model;
    private final Optimizer optimizer;
    private final LRScheduler scheduler; // null: constant rate
    private final DataLoader trainLoader;
    private final DataLoader valLoader;
    private final DataLoader trainEstimateLoader;
    private final int epochs; // 0: bounded by iters only
    private final StreamChunks chunks; // char-lstm only
    private final Tracker tracker = new Tracker();

    private LanguageModelRecipe(String name, TextCorpus corpus, Options options, M model, Optimizer optimizer,
            DataLoader trainLoader, int epochs, StreamChunks chunks) {
        this.name = name;
        this.corpus = corpus;
        this.options = options;
        this.model = model;
        this.optimizer = optimizer;
        this.scheduler = options.scheduled()
                ? LRScheduler.linearWarmupCosineDecay(optimizer, options.warmupIters(),
                        Math.max(options.iters(), options.warmupIters() + 1), options.minLr())
                : null;
        this.trainLoader = trainLoader;
        this.epochs = epochs;
        this.chunks = chunks;
        // the fixed validation batches, then the training-loss batches, drawn as quality.py q2 draws its final
        // estimates from its g_eval (torch.Generator().manual_seed(1000 + seed)): after the windows of the
        // estimates it made every evalEvery iterations before the last, so that both are scored on the same windows
        MersenneTwister evalGen = new MersenneTwister(1000 + options.seed());
        long earlierEstimates = (options.iters() - 1) / options.evalEvery();
        evalGen.skip(earlierEstimates * options.evalBatches() * options.batchSize());
        this.valLoader = fixedBatches(corpus.valWindows(options.contextLength()), "validation", evalGen);
        this.trainEstimateLoader = fixedBatches(corpus.trainWindows(options.contextLength()), "training", evalGen);
    }

    /** char-gpt with the Q2 settings ({@link Options#charGpt()}). */
    public static LanguageModelRecipe<GPT> charGpt(TextCorpus corpus) {
        return charGpt(corpus, Options.charGpt());
    }

    /** char-gpt: the W3 transformer with the text's vocabulary (see the class comment). */
    public static LanguageModelRecipe<GPT> charGpt(TextCorpus corpus, Options options) {
        checkCorpus(CHAR_GPT, corpus, options);
        GPT model = new GPT(new GPT.Config(corpus.vocab().size(), options.contextLength(), 4, 4, 128, 512),
                new Generator(options.seed()));
        Optimizer optimizer = Workloads.w3Optimizer(model, options.lr());
        RandomWindows windows = new RandomWindows(corpus.train(), options.contextLength(),
                Math.multiplyExact(options.iters(), options.batchSize()), options.seed());
        DataLoader loader = DataLoader.builder(windows).batchSize(options.batchSize()).build();
        return new LanguageModelRecipe<>(CHAR_GPT, corpus, options, model, optimizer, loader, 1, null);
    }

    /** char-lstm with the W4 settings ({@link Options#charLstm()}). */
    public static LanguageModelRecipe<CharLSTM> charLstm(TextCorpus corpus) {
        return charLstm(corpus, Options.charLstm());
    }

    /** char-lstm: the W4 LSTM with the text's vocabulary, truncated BPTT (see the class comment). */
    public static LanguageModelRecipe<CharLSTM> charLstm(TextCorpus corpus, Options options) {
        checkCorpus(CHAR_LSTM, corpus, options);
        StreamChunks chunks;
        try {
            chunks = new StreamChunks(corpus.train(), options.batchSize(), options.contextLength());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(CHAR_LSTM + ": the training part of the text (" + corpus.trainLength()
                    + " characters) is too short: " + e.getMessage(), e);
        }
        CharLSTM model = new CharLSTM(new CharLSTM.Config(corpus.vocab().size(), 128, 256, 2),
                new Generator(options.seed())).carryState(true);
        Optimizer optimizer = new Adam(model.parameters(), options.lr());
        int epochs = (int) Math.ceilDiv((long) options.iters(), chunks.chunksPerStream());
        return new LanguageModelRecipe<>(CHAR_LSTM, corpus, options, model, optimizer, chunks.loader(), epochs,
                chunks);
    }

    /** The recipe by name: {@value #CHAR_GPT} or {@value #CHAR_LSTM}. */
    public static LanguageModelRecipe<?> of(String name, TextCorpus corpus, Options options) {
        return switch (name) {
            case CHAR_GPT -> charGpt(corpus, options);
            case CHAR_LSTM -> charLstm(corpus, options);
            default -> throw new IllegalArgumentException("unknown language-model recipe '" + name + "'; expected "
                    + CHAR_GPT + " or " + CHAR_LSTM);
        };
    }

    /** The default options of the recipe {@code name}. */
    public static Options defaults(String name) {
        return switch (name) {
            case CHAR_GPT -> Options.charGpt();
            case CHAR_LSTM -> Options.charLstm();
            default -> throw new IllegalArgumentException("unknown language-model recipe '" + name + "'; expected "
                    + CHAR_GPT + " or " + CHAR_LSTM);
        };
    }

    /** Whether {@code name} is a language-model recipe. */
    public static boolean isRecipe(String name) {
        return CHAR_GPT.equals(name) || CHAR_LSTM.equals(name);
    }

    private static void checkCorpus(String name, TextCorpus corpus, Options options) {
        int need = options.contextLength() + 2; // torch-style sampling: randint(len - T - 1) > 0
        int val = corpus.length() - corpus.trainLength();
        if (corpus.trainLength() < need || val < need) {
            throw new IllegalArgumentException(name + ": windows of " + options.contextLength() + " characters and "
                    + "their next-character targets need at least " + need + " characters in both the training part "
                    + "(the first 90%) and the validation part (the last 10%) of the text; it has "
                    + corpus.trainLength() + " and " + val + " (" + corpus.length() + " characters in all): use a "
                    + "longer text");
        }
    }

    private DataLoader fixedBatches(WindowSampler windows, String part, MersenneTwister gen) {
        List<Tensor> inputs = new ArrayList<>();
        List<Tensor> targets = new ArrayList<>();
        for (int i = 0; i < options.evalBatches(); i++) {
            Batch b = windows.sample(options.batchSize(), gen);
            inputs.add(b.inputs());
            targets.add(b.targets());
        }
        TensorDataset ds = new TensorDataset(Tensor.cat(inputs, 0), Tensor.cat(targets, 0));
        return DataLoader.builder(ds).batchSize(options.batchSize()).prefetch(0).build();
    }

    // ------------------------------------------------------------------ training

    /**
     * A trainer builder set up for this recipe: optimizer, loss (cross-entropy at every position),
     * iterations, schedule, clipping, validation cadence, and for char-lstm the state reset at
     * every epoch. Add listeners, checkpoints or diagnostics options, build, and pass the trainer
     * to {@link #fit}.
     */
    public Trainer.Builder trainerBuilder() {
        Trainer.Builder b = Trainer.builder(model, optimizer, Workloads::sequenceLoss)
                .epochs(epochs).maxSteps(options.iters()).scheduler(scheduler)
                .clipGradNorm(options.clipGradNorm()).validateEverySteps(options.evalEvery())
                .listener(tracker);
        if (model instanceof CharLSTM lstm) {
            b.listener(new TrainingListener() {
                @Override
                public void onTrainStart(Trainer t) {
                    lstm.resetState(); // a resumed run restarts its streams' state from zeros
                }

                @Override
                public void onEpochEnd(Trainer t, EpochReport e) {
                    lstm.resetState(); // the next epoch starts the streams over
                }
            });
        }
        return b;
    }

    /** Trains with a trainer from {@link #trainerBuilder()} and these listeners. */
    public Result train(TrainingListener... listeners) {
        Trainer.Builder b = trainerBuilder();
        for (TrainingListener l : listeners) {
            b.listener(l);
        }
        return fit(b.build());
    }

    /**
     * Runs {@code trainer} (built from {@link #trainerBuilder()}, possibly resumed from a
     * checkpoint) on this recipe's data, then estimates the training loss.
     */
    public Result fit(Trainer trainer) {
        if (trainer.model() != model) {
            throw new IllegalArgumentException(name + ": the trainer trains another model; build it with this "
                    + "recipe's trainerBuilder()");
        }
        long start = System.nanoTime();
        tracker.reset();
        History history = trainer.fit(trainLoader, valLoader);
        double valLoss = tracker.validations.isEmpty() ? trainer.evaluate(valLoader).loss()
                : tracker.validations.get(tracker.validations.size() - 1)[1];
        double trainLoss = estimateTrainingLoss(trainer);
        return new Result(valLoss, trainLoss, trainer.step(), tracker.trainSeconds, (System.nanoTime() - start) / 1e9,
                List.copyOf(tracker.validations), history);
    }

    /** The validation loss of the model now: the mean over the fixed validation batches. */
    public double validationLoss() {
        return Trainer.builder(model, optimizer, Workloads::sequenceLoss).diagnostics(false).build()
                .evaluate(valLoader).loss();
    }

    private double estimateTrainingLoss(Trainer trainer) {
        return trainer.evaluate(trainEstimateLoader).loss();
    }

    /** Times the training steps and keeps every validation. */
    private static final class Tracker implements TrainingListener {
        private double trainSeconds;
        private final List<double[]> validations = new ArrayList<>();

        void reset() {
            trainSeconds = 0;
            validations.clear();
        }

        @Override
        public void onStep(Trainer trainer, StepReport step) {
            trainSeconds += step.seconds();
        }

        @Override
        public void onValidation(Trainer trainer, Evaluation validation) {
            validations.add(new double[] {trainer.step(), validation.loss()});
        }
    }

    // ------------------------------------------------------------------ accessors

    /** {@value #CHAR_GPT} or {@value #CHAR_LSTM}. */
    public String name() {
        return name;
    }

    public M model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** The learning-rate schedule, or null for a constant rate. */
    public LRScheduler scheduler() {
        return scheduler;
    }

    public Options options() {
        return options;
    }

    public TextCorpus corpus() {
        return corpus;
    }

    /** The vocabulary: the text's sorted distinct characters, id = position. */
    public CharVocab vocab() {
        return corpus.vocab();
    }

    /** The training batches (random windows for char-gpt, stream chunks for char-lstm). */
    public DataLoader trainLoader() {
        return trainLoader;
    }

    /** The fixed validation batches. */
    public DataLoader valLoader() {
        return valLoader;
    }

    /**
     * The model's configuration as a JSON-compatible map, from which {@link #buildModel} rebuilds
     * the same architecture (for a run folder's manifest).
     */
    public Map<String, Object> modelConfig() {
        Map<String, Object> m = new LinkedHashMap<>();
        if (model instanceof GPT g) {
            GPT.Config c = g.config();
            m.put("type", "gpt");
            m.put("vocab_size", c.vocabSize());
            m.put("context_length", c.contextLength());
            m.put("n_layer", c.nLayer());
            m.put("n_head", c.nHead());
            m.put("d_model", c.dModel());
            m.put("mlp_hidden", c.mlpHidden());
        } else {
            CharLSTM.Config c = ((CharLSTM) (Module) model).config();
            m.put("type", "lstm");
            m.put("vocab_size", c.vocabSize());
            m.put("embedding_dim", c.embeddingDim());
            m.put("hidden_size", c.hiddenSize());
            m.put("num_layers", c.numLayers());
        }
        return m;
    }

    /** Every setting of the recipe, for a run's manifest. */
    public Map<String, Object> hyperparameters() {
        Map<String, Object> h = new LinkedHashMap<>();
        h.put("iters", options.iters());
        h.put("batch_size", options.batchSize());
        h.put("context_length", options.contextLength());
        h.put("lr", options.lr());
        h.put("min_lr", options.minLr());
        h.put("warmup_iters", options.warmupIters());
        h.put("schedule", options.scheduled() ? "linear warm-up, then cosine decay to min_lr at the last iteration "
                + "(nanoGPT get_lr)" : "constant");
        h.put("optimizer", optimizer.getClass().getSimpleName());
        h.put("optimizer_options", optimizer.paramGroups().get(0).options());
        h.put("clip_grad_norm", options.clipGradNorm());
        h.put("eval_every", options.evalEvery());
        h.put("eval_batches", options.evalBatches());
        h.put("eval_seed", 1000 + options.seed());
        h.put("eval_sampling", "torch.randint(len - T - 1) on an MT19937 seeded eval_seed, after the draws of "
                + "the earlier estimates (quality.py q2's final-estimate windows)");
        h.put("seed", options.seed());
        if (chunks != null) {
            h.put("tbptt", Map.of("streams", chunks.streams(), "chunk_length", chunks.chunkLength(),
                    "chunks_per_epoch", chunks.chunksPerStream(), "state", "carried between chunks, detached at the "
                            + "border, reset every epoch; validation from a zero state per window"));
        } else {
            h.put("sampling", "random windows of the training part, one per example (RandomWindows, seed)");
        }
        return h;
    }

    // ------------------------------------------------------------------ run folders

    /**
     * Writes into a run folder what {@link #loadRun} needs besides the weights, and what a reader
     * of the run wants to know: manifest entries {@code description}, {@code hyperparameters},
     * {@code model} (summary, parameter count and the {@link #modelConfig() configuration}) and
     * {@code data_description}, and the tokenizer file {@code tokenizer.json}
     * ({@link CharVocab#save}). Save the weights with {@link RunFolder#saveModel} after training.
     */
    public void describeRun(RunFolder run) throws IOException {
        run.put("description", name.equals(CHAR_GPT)
                ? "W3 character-level GPT (4 layers, 4 heads, d 128) by the Q2 protocol: random windows, AdamW, "
                        + "warm-up + cosine decay"
                : "W4 character-level LSTM (embedding 128, 2 x LSTM 256) with truncated BPTT over "
                        + options.batchSize() + " streams, Adam");
        run.put("hyperparameters", hyperparameters());
        Map<String, Object> info = new LinkedHashMap<>();
        info.put("summary", model.toString());
        info.put("parameters", model.parameterCount());
        info.put("config", modelConfig());
        run.put("model", info);
        Map<String, Object> data = new LinkedHashMap<>();
        data.put("characters", corpus.length());
        data.put("vocabulary", corpus.vocab().size());
        data.put("train_characters", corpus.trainLength());
        data.put("val_characters", corpus.length() - corpus.trainLength());
        data.put("split", "first 90% training, last 10% validation");
        run.put("data_description", data);
        corpus.vocab().save(run.dir().resolve("tokenizer.json"));
    }

    /**
     * A model of the architecture in {@code config} (a {@link #modelConfig()} map), freshly
     * initialised; load weights into it.
     *
     * @throws IllegalArgumentException if the map is not such a configuration
     */
    public static Module buildModel(Map<String, Object> config) {
        Object type = config.get("type");
        try {
            if ("gpt".equals(type)) {
                return new GPT(new GPT.Config(integer(config, "vocab_size"), integer(config, "context_length"),
                        integer(config, "n_layer"), integer(config, "n_head"), integer(config, "d_model"),
                        integer(config, "mlp_hidden")), new Generator(0));
            }
            if ("lstm".equals(type)) {
                return new CharLSTM(new CharLSTM.Config(integer(config, "vocab_size"), integer(config, "embedding_dim"),
                        integer(config, "hidden_size"), integer(config, "num_layers")), new Generator(0));
            }
        } catch (ClassCastException | NullPointerException e) {
            throw new IllegalArgumentException("model configuration " + config + " lacks a size or has one that is not"
                    + " a number", e);
        }
        throw new IllegalArgumentException("model configuration: expected type \"gpt\" or \"lstm\", got " + type);
    }

    private static int integer(Map<String, Object> m, String key) {
        return ((Number) Objects.requireNonNull(m.get(key), key)).intValue();
    }

    /**
     * A trained language model read back from its run folder: the model (eval mode) and the
     * tokenizer.
     *
     * @param recipe the run's recipe
     * @param model the model, a {@link GPT} or a {@link CharLSTM}
     * @param vocab the tokenizer ({@code tokenizer.json})
     */
    public record Loaded(String recipe, LanguageModel model, CharVocab vocab) {}

    /**
     * Reads a language-model run folder written by {@code backprop train char-gpt|char-lstm}:
     * {@code manifest.json} (recipe and {@code model.config}), {@code tokenizer.json} and
     * {@code model.safetensors}.
     *
     * @throws IllegalArgumentException if the folder is not a finished language-model run (saying
     *     what it is and what to do)
     */
    @SuppressWarnings("unchecked")
    public static Loaded loadRun(Path dir) throws IOException {
        Path manifestFile = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            throw new IllegalArgumentException(dir + " is not a run folder (no manifest.json)");
        }
        Map<String, Object> manifest = Json.parseObject(Files.readString(manifestFile));
        Object recipe = manifest.get("recipe");
        if (!(recipe instanceof String r) || !isRecipe(r)) {
            throw new IllegalArgumentException("run " + dir.getFileName() + " was trained with the recipe '" + recipe
                    + "', not a language model: expected a run of " + CHAR_GPT + " or " + CHAR_LSTM + " (train one with"
                    + " `backprop train char-gpt`; `backprop runs` lists the runs and their recipes)");
        }
        Object modelInfo = manifest.get("model");
        if (!(modelInfo instanceof Map<?, ?> info) || !(info.get("config") instanceof Map<?, ?> config)) {
            throw new IllegalArgumentException("run " + dir.getFileName() + ": its manifest has no model.config, so "
                    + "the model cannot be rebuilt (written by an older backprop?); train it again");
        }
        Path weights = dir.resolve("model.safetensors");
        Path tokenizer = dir.resolve("tokenizer.json");
        for (Path p : List.of(weights, tokenizer)) {
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException("run " + dir.getFileName() + " has no " + p.getFileName()
                        + " (did the training finish? a run writes it at the end)");
            }
        }
        Module model = buildModel((Map<String, Object>) config);
        model.load(weights);
        model.eval();
        CharVocab vocab = CharVocab.load(tokenizer);
        LanguageModel lm = (LanguageModel) model;
        if (vocab.size() != lm.vocabSize()) {
            throw new IllegalArgumentException("run " + dir.getFileName() + ": tokenizer.json has " + vocab.size()
                    + " characters but the model " + lm.vocabSize() + " tokens; the folder's files do not belong "
                    + "together");
        }
        return new Loaded(r, lm, vocab);
    }
}
