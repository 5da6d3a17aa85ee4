package dev.backprop.cli;

import dev.backprop.data.LabeledTexts;
import dev.backprop.data.LabeledTexts.UnknownLabels;
import dev.backprop.io.Json;
import dev.backprop.train.BertFineTuning;
import dev.backprop.train.ConfusionMatrix;
import dev.backprop.train.EpochReport;
import dev.backprop.train.Evaluation;
import dev.backprop.train.MetricsLog;
import dev.backprop.train.ProgressBar;
import dev.backprop.train.RunFolder;
import dev.backprop.train.RunReport;
import dev.backprop.train.TextClassification;
import dev.backprop.train.Trainer;
import dev.backprop.train.TrainingListener;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The {@code intent} recipe: text to intent from a CSV of texts and labels, by
 * {@link TextClassification} (BPE subwords, a convolutional classifier, early stopping on 10% of
 * the training file). {@code train intent}, {@code eval RUN} and {@code predict RUN --text ...}
 * of an intent run come here; the run folder holds {@code classifier.json} and
 * {@code tokenizer.json} next to the usual manifest, metrics and weights.
 *
 * <p>Data: {@code --data TRAIN.csv --test TEST.csv}, by default Banking77
 * ({@code ../shared/data/banking77-{train,test}.csv} beside the project). The text column is
 * {@code text}; the label column is {@code --target}, else the first of {@code label},
 * {@code category}, {@code intent} in the header. Rows with an empty text or label are skipped and
 * counted; test rows whose label never occurs in training are skipped with a warning and counted;
 * invalid UTF-8 is an error naming the file, line and byte.
 */
final class IntentRecipe {
    static final String NAME = "intent";
    static final String TRAIN_FILE = "banking77-train.csv";
    static final String TEST_FILE = "banking77-test.csv";
    private static final List<String> LABEL_COLUMNS = List.of("label", "category", "intent");
    private static final int CONFUSED_SHOWN = 10;

    private IntentRecipe() {}

    /** Whether a run folder holds an intent run (its manifest's recipe is {@code intent}). */
    static boolean isIntentRun(Path dir) {
        Path manifest = dir.resolve("manifest.json");
        if (!Files.isRegularFile(manifest)) {
            return false;
        }
        try {
            return NAME.equals(Json.parseObject(Files.readString(manifest)).get("recipe"));
        } catch (IOException | RuntimeException e) {
            return false; // RunRef reports an unreadable manifest
        }
    }

    // ------------------------------------------------------------------ train

    /** {@code backprop train intent}. */
    static int train(TrainCommand cmd) throws IOException {
        long wallStart = System.nanoTime();
        RecipeOptions o = cmd.options;
        for (var unsupported : List.of(Map.entry("--resume", cmd.resume != null),
                Map.entry("--init-from", cmd.initFrom != null), Map.entry("--max-steps", cmd.maxSteps > 0))) {
            if (unsupported.getValue()) {
                throw new IllegalArgumentException("the intent recipe does not support " + unsupported.getKey()
                        + "; it trains from scratch in a few minutes (use --epochs to shorten it)");
            }
        }
        Threads.apply(o.threads);
        Path trainFile;
        Path testFile;
        if (o.data == null || o.data.equals("synthetic")) { // --data not given
            Path dir = defaultDataDir();
            trainFile = dir.resolve(TRAIN_FILE);
            testFile = cmd.testFile != null ? cmd.testFile : dir.resolve(TEST_FILE);
        } else {
            trainFile = Path.of(o.data);
            if (cmd.testFile == null) {
                throw new IllegalArgumentException("the intent recipe needs a test file with --data: pass --test "
                        + "TEST.csv (a CSV with the same columns as " + trainFile + ")");
            }
            testFile = cmd.testFile;
        }
        requireFile(trainFile, "training");
        requireFile(testFile, "test");
        LabeledTexts.Options csv = LabeledTexts.Options.of("text", labelColumn(trainFile, o.target));
        LabeledTexts train = LabeledTexts.read(trainFile, csv);
        LabeledTexts test = LabeledTexts.readLike(testFile, train, csv.withUnknownLabels(UnknownLabels.SKIP));
        for (String w : List.of(train.warning(), test.warning())) {
            if (!w.isEmpty()) {
                System.out.println("warning: " + w);
            }
        }

        TextClassification.Options options = TextClassification.Options.defaults().withSeed(o.seed);
        if (cmd.epochs != null) {
            options = options.withEpochs(cmd.epochs);
        }
        if (cmd.lr != null) {
            options = options.withLr(cmd.lr);
        }
        if (o.batchSize != null) {
            options = options.withBatchSize(o.batchSize);
        }
        if (cmd.valFraction > 0) {
            options = options.withValidationFraction(cmd.valFraction);
        }

        RunFolder run = RunFolder.create(cmd.out, NAME);
        Map<String, Object> hyper = new LinkedHashMap<>(options.toMap());
        hyper.put("threads", Threads.current());
        run.put("description", "intent: BPE subwords (lower-cased) -> embeddings -> convolutions of widths "
                + options.kernelWidths() + " with masked max pooling + masked mean -> dropout -> Linear; AdamW, "
                + "one-cycle, label smoothing, early stopping on validation accuracy");
        run.put("hyperparameters", hyper);
        run.recordData("train", trainFile);
        run.recordData("test", testFile);
        Map<String, Object> desc = dataDescription(trainFile, csv, train, test);
        run.put("data_description", desc);
        System.out.println("run " + run.id() + ": intent on " + trainFile + " (" + train.size() + " texts, "
                + train.numClasses() + " classes), test " + testFile + " (" + test.size() + "), at most "
                + options.epochs() + " epochs, batch " + options.batchSize() + ", lr " + options.lr() + ", seed "
                + options.seed() + ", " + Threads.current() + " threads");

        List<Double> epochSeconds = new ArrayList<>();
        List<TrainingListener> listeners = List.of(new ProgressBar(), new MetricsLog(run, 10), new TrainingListener() {
            @Override
            public void onEpochEnd(Trainer t, EpochReport e) {
                epochSeconds.add(e.seconds());
            }
        });
        TextClassification clf;
        if (cmd.dashboardPort != null) {
            try (DashboardServer dashboard = new DashboardServer(run.dir(), cmd.dashboardPort, "--dashboard=0")) {
                System.out.println("dashboard: " + dashboard.url() + " (live while training runs)");
                clf = TextClassification.train(train, options, listeners);
            }
        } else {
            clf = TextClassification.train(train, options, listeners);
        }
        double trainSeconds = epochSeconds.stream().mapToDouble(Double::doubleValue).sum();
        clf.save(run.dir());
        for (String f : new String[] {TextClassification.WEIGHTS_FILE, TextClassification.TOKENIZER_FILE,
            TextClassification.CONFIG_FILE}) {
            run.recordArtifact(f);
        }
        run.put("model", Map.of("summary", clf.model().toString(), "parameters", clf.model().parameterCount(),
                "vocab_size", clf.tokenizer().vocabSize()));
        Evaluation result = clf.evaluate(test);
        ConfusionMatrix cm = result.confusion();

        desc.put("train_size", clf.trainingExamples());
        desc.put("validation_size", clf.validationExamples());
        desc.put("truncated", clf.truncated());
        run.put("data_description", desc);
        run.put("metrics", testMetrics(result, clf.validation(), clf.classes(), clf.history()));
        run.put("time_per_epoch_s", epochSeconds);
        run.put("train_time_s", trainSeconds);
        run.put("wall_time_s", (System.nanoTime() - wallStart) / 1e9);
        run.put("stop_reason", clf.history().stopReason());

        System.out.println(String.format(Locale.ROOT, "trained %d epochs in %.1f min (%s)%s",
                clf.history().epochs().size(), trainSeconds / 60, clf.history().stopReason(),
                clf.validation() == null ? "" : String.format(Locale.ROOT, ", validation accuracy %.4f (%d texts)",
                        clf.validation().accuracy(), clf.validationExamples())));
        if (clf.truncated() > 0) {
            System.out.println(clf.truncated() + " training texts were longer than " + clf.maxLength()
                    + " tokens and were truncated");
        }
        System.out.println(String.format(Locale.ROOT, "test accuracy %.4f, macro-F1 %.4f, test loss %.4f (%d texts)",
                result.accuracy(), cm.macroF1(), result.loss(), result.examples()));
        printConfused(cm);
        System.out.println("run folder: " + run.dir());
        System.out.println("report: " + RunReport.write(run.dir()));
        run.recordArtifact("report.html");
        return 0;
    }

    /** The manifest's data description of an intent run (from scratch or fine-tuned): files, columns, sizes. */
    static Map<String, Object> dataDescription(Path trainFile, LabeledTexts.Options csv, LabeledTexts train,
            LabeledTexts test) {
        Map<String, Object> desc = new LinkedHashMap<>();
        desc.put("dataset", trainFile.getFileName().toString().startsWith("banking77") ? "Banking77" : "labelled texts");
        desc.put("text_column", csv.textColumn());
        desc.put("label_column", csv.labelColumn());
        desc.put("classes", train.numClasses());
        desc.put("train_rows", train.size());
        desc.put("train_skipped", train.skipped());
        desc.put("test_size", test.size());
        desc.put("test_skipped", test.skipped());
        desc.put("test_skipped_reason", "empty text or label, or a label not in the training file");
        return desc;
    }

    /** The manifest's metrics of an intent run: test loss, accuracy, macro-F1, confusion matrix, training. */
    static Map<String, Object> testMetrics(Evaluation test, Evaluation validation, List<String> classes,
            dev.backprop.train.History history) {
        ConfusionMatrix cm = test.confusion();
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("test_loss", test.loss());
        metrics.put("test_accuracy", test.accuracy());
        metrics.put("test_macro_f1", cm.macroF1());
        if (validation != null) {
            metrics.put("val_accuracy", validation.accuracy());
        }
        metrics.put("confusion_matrix", cm.counts());
        metrics.put("classes", classes);
        metrics.put("most_confused", mostConfused(cm, CONFUSED_SHOWN));
        if (history.last() != null) {
            metrics.put("final_train_loss", history.last().trainLoss());
        }
        metrics.put("epochs_trained", history.epochs().size());
        metrics.put("steps", history.steps());
        return metrics;
    }

    /** The pairs (true, predicted) of distinct classes confused most often, for the manifest. */
    static List<Map<String, Object>> mostConfused(ConfusionMatrix cm, int limit) {
        long[][] counts = cm.counts();
        List<int[]> pairs = new ArrayList<>();
        for (int i = 0; i < counts.length; i++) {
            for (int j = 0; j < counts.length; j++) {
                if (i != j && counts[i][j] > 0) {
                    pairs.add(new int[] {i, j});
                }
            }
        }
        pairs.sort((a, b) -> Long.compare(counts[b[0]][b[1]], counts[a[0]][a[1]]));
        List<Map<String, Object>> out = new ArrayList<>();
        for (int[] p : pairs.subList(0, Math.min(limit, pairs.size()))) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("true", cm.label(p[0]));
            m.put("predicted", cm.label(p[1]));
            m.put("count", counts[p[0]][p[1]]);
            out.add(m);
        }
        return out;
    }

    static void printConfused(ConfusionMatrix cm) {
        List<String> pairs = cm.mostConfused(CONFUSED_SHOWN);
        if (pairs.isEmpty()) {
            System.out.println("no intent was confused with another");
            return;
        }
        System.out.println("the " + pairs.size() + " most confused intents (true → predicted: count):");
        pairs.forEach(p -> System.out.println("  " + p));
    }

    // ------------------------------------------------------------------ eval and predict

    /** {@code backprop eval RUN} of an intent run, on {@code dataOverride} or the run's test file. */
    static int eval(Path dir, String dataOverride) throws IOException {
        Classifier clf = Classifier.load(dir);
        Map<String, Object> manifest = Json.parseObject(Files.readString(dir.resolve("manifest.json")));
        Path testFile = dataOverride != null ? Path.of(dataOverride) : recordedFile(manifest, "test", dir);
        requireFile(testFile, "test");
        LabeledTexts test = LabeledTexts.readWithClasses(testFile, clf.classes(),
                LabeledTexts.Options.of("text", recordedLabelColumn(manifest, testFile))
                        .withUnknownLabels(UnknownLabels.SKIP));
        if (!test.warning().isEmpty()) {
            System.out.println("warning: " + test.warning());
        }
        Evaluation e = clf.evaluate(test);
        ConfusionMatrix cm = e.confusion();
        System.out.println("run " + dir.getFileName() + " (intent) on " + testFile + ": " + e.examples() + " texts");
        System.out.println(String.format(Locale.ROOT, "test accuracy %.4f, macro-F1 %.4f, test loss %.4f",
                e.accuracy(), cm.macroF1(), e.loss()));
        System.out.print(cm.report());
        printConfused(cm);
        return 0;
    }

    /** {@code backprop predict RUN --text ...} of an intent run: the top {@code k} intents of each text. */
    static int predict(Path dir, List<String> texts, int k) {
        if (texts == null || texts.isEmpty()) {
            throw new IllegalArgumentException("an intent run predicts the intents of texts: pass --text \"I lost my "
                    + "card\" (repeatable)");
        }
        Classifier clf = Classifier.load(dir);
        List<List<TextClassification.Prediction>> all = clf.predict(texts, k);
        for (int i = 0; i < texts.size(); i++) {
            System.out.println(texts.get(i));
            for (TextClassification.Prediction p : all.get(i)) {
                System.out.println(String.format(Locale.ROOT, "  %-45s %.3f", p.label(), p.probability()));
            }
        }
        return 0;
    }

    /** A saved intent classifier of either kind: trained from scratch, or fine-tuned from a pre-trained encoder. */
    interface Classifier {
        List<String> classes();

        Evaluation evaluate(LabeledTexts data);

        List<List<TextClassification.Prediction>> predict(List<String> texts, int k);

        /** The classifier of a run folder ({@code backprop train intent} or {@code backprop finetune}). */
        static Classifier load(Path dir) {
            if (BertFineTuning.isSaved(dir)) {
                BertFineTuning c = BertFineTuning.load(dir);
                return new Classifier() {
                    public List<String> classes() {
                        return c.classes();
                    }

                    public Evaluation evaluate(LabeledTexts data) {
                        return c.evaluate(data);
                    }

                    public List<List<TextClassification.Prediction>> predict(List<String> texts, int k) {
                        return c.predict(texts, k);
                    }
                };
            }
            TextClassification c = TextClassification.load(dir);
            return new Classifier() {
                public List<String> classes() {
                    return c.classes();
                }

                public Evaluation evaluate(LabeledTexts data) {
                    return c.evaluate(data);
                }

                public List<List<TextClassification.Prediction>> predict(List<String> texts, int k) {
                    return c.predict(texts, k);
                }
            };
        }
    }

    // ------------------------------------------------------------------ files

    /**
     * {@code ../shared/data} beside the project: found from the working folder and from the jar's
     * place ({@code <project>/backprop-cli/target/backprop.jar}).
     */
    static Path defaultDataDir() {
        List<Path> roots = new ArrayList<>();
        roots.add(Path.of("").toAbsolutePath());
        Path jarRoot = projectRootOfJar();
        if (jarRoot != null) {
            roots.add(jarRoot);
        }
        return defaultDataDir(roots);
    }

    /** The first {@code <root>/../shared/data} holding Banking77, else an error naming where it looked. */
    static Path defaultDataDir(List<Path> roots) {
        Set<Path> tried = new LinkedHashSet<>();
        for (Path root : roots) {
            if (root.getParent() == null) {
                continue;
            }
            Path dir = root.resolveSibling("shared").resolve("data").normalize();
            if (tried.add(dir) && Files.isRegularFile(dir.resolve(TRAIN_FILE))) {
                return dir;
            }
        }
        throw new IllegalArgumentException("the intent recipe trains on Banking77 by default, but " + TRAIN_FILE
                + " is not in " + String.join(" nor in ", tried.stream().map(Path::toString).toList())
                + " (../shared/data beside the project); put banking77-train.csv and banking77-test.csv there, or "
                + "pass --data TRAIN.csv --test TEST.csv (CSV files with a header: text,label)");
    }

    private static Path projectRootOfJar() {
        try {
            Path p = Path.of(IntentRecipe.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            // backprop-cli/target/backprop.jar or backprop-cli/target/classes
            Path module = p.getParent() == null ? null : p.getParent().getParent();
            return module == null ? null : module.getParent();
        } catch (URISyntaxException | SecurityException | NullPointerException e) {
            return null;
        }
    }

    static void requireFile(Path file, String role) {
        if (!Files.isRegularFile(file)) {
            throw new IllegalArgumentException("the " + role + " file " + file.toAbsolutePath() + " does not exist; "
                    + "expected a CSV file with a header such as text,label");
        }
    }

    /** --target, else the first of label, category, intent in the header. */
    static String labelColumn(Path file, String target) {
        if (target != null) {
            return target;
        }
        String header;
        try (var lines = Files.lines(file)) {
            header = lines.findFirst().orElse("");
        } catch (IOException | UncheckedIOException e) {
            return LABEL_COLUMNS.get(0); // LabeledTexts reports the file's problem
        }
        List<String> names = new ArrayList<>();
        for (String s : header.replace("\uFEFF", "").split(",")) {
            names.add(s.strip().replace("\"", ""));
        }
        for (String c : LABEL_COLUMNS) {
            if (names.contains(c)) {
                return c;
            }
        }
        throw new IllegalArgumentException(file + ": found no label column in the header " + names + "; expected one "
                + "of " + LABEL_COLUMNS + ", or name it with --target COLUMN");
    }

    @SuppressWarnings("unchecked")
    private static Path recordedFile(Map<String, Object> manifest, String role, Path dir) {
        Object data = manifest.get("data");
        if (data instanceof Map<?, ?> files && files.get(role) instanceof Map<?, ?> entry
                && entry.get("path") instanceof String path) {
            return Path.of(path);
        }
        throw new IllegalArgumentException("the manifest of " + dir + " records no " + role + " file; pass --data "
                + "TEST.csv");
    }

    @SuppressWarnings("unchecked")
    private static String recordedLabelColumn(Map<String, Object> manifest, Path file) {
        if (manifest.get("data_description") instanceof Map<?, ?> desc && desc.get("label_column") instanceof String c
                && headerHas(file, c)) {
            return c;
        }
        return labelColumn(file, null);
    }

    private static boolean headerHas(Path file, String column) {
        try (var lines = Files.lines(file)) {
            return lines.findFirst().map(h -> List.of(h.replace("\uFEFF", "").split(",")).stream()
                    .map(s -> s.strip().replace("\"", "")).anyMatch(column::equals)).orElse(false);
        } catch (IOException | UncheckedIOException e) {
            return true;
        }
    }
}
