package dev.backprop.cli;

import dev.backprop.data.TextCorpus;
import dev.backprop.train.LanguageModelRecipe;
import dev.backprop.train.MetricsLog;
import dev.backprop.train.ProgressBar;
import dev.backprop.train.RunFolder;
import dev.backprop.train.RunReport;
import dev.backprop.train.Trainer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * {@code backprop train char-gpt|char-lstm}: a character language model on a text file
 * ({@link LanguageModelRecipe}), written to a run folder with its tokenizer.
 */
final class LanguageModelTraining {
    /** The default text, relative to the project root (the folder of the {@code backprop} script). */
    static final String DEFAULT_TEXT = "../shared/data/tinyshakespeare.txt";

    /** The system property the {@code backprop} script sets to the project root. */
    static final String ROOT_PROPERTY = "backprop.root";

    private LanguageModelTraining() {}

    /** The project root: {@code -Dbackprop.root} (set by the launcher script), else the working directory. */
    static Path projectRoot() {
        return Path.of(System.getProperty(ROOT_PROPERTY, ".")).toAbsolutePath().normalize();
    }

    /** The text to train on: {@code --data}, or the default tiny Shakespeare next to the project. */
    static Path textFile(String recipe, String data) {
        if (data != null && !data.equals("synthetic")) {
            Path p = Path.of(data);
            if (!Files.isRegularFile(p)) {
                throw new IllegalArgumentException(recipe + ": --data " + data + " is not a file (looked for "
                        + p.toAbsolutePath().normalize() + "); pass a UTF-8 text file");
            }
            return p;
        }
        Path root = projectRoot();
        Path p = root.resolve(DEFAULT_TEXT).normalize();
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(recipe + ": no --data given and the default text " + DEFAULT_TEXT
                    + " (relative to the project root " + root + ") is not there: looked for " + p + "; pass --data "
                    + "FILE with any UTF-8 text (tiny Shakespeare: "
                    + "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt)");
        }
        return p;
    }

    static int run(TrainCommand cmd) throws IOException {
        long wallStart = System.nanoTime();
        RecipeOptions options = cmd.options;
        String name = options.recipeName;
        rejectImageOptions(cmd, name);
        Threads.apply(options.threads);
        Path text = textFile(name, options.data);
        TextCorpus corpus = TextCorpus.read(text);
        LanguageModelRecipe.Options o = LanguageModelRecipe.defaults(name).withSeed(options.seed);
        if (cmd.iters != null) {
            o = o.withIters(cmd.iters);
        }
        if (options.batchSize != null) {
            o = o.withBatchSize(options.batchSize);
        }
        if (cmd.lr != null) {
            o = o.withLr(cmd.lr);
        }
        LanguageModelRecipe<?> recipe = LanguageModelRecipe.of(name, corpus, o);

        RunFolder run = RunFolder.create(cmd.out, name);
        recipe.describeRun(run);
        Map<String, Object> hyper = recipe.hyperparameters();
        hyper.put("threads", Threads.current());
        run.put("hyperparameters", hyper);
        run.recordData("text", text);

        System.out.println("run " + run.id() + ": " + name + " on " + text + " (" + corpus.length() + " characters, "
                + corpus.vocab().size() + " distinct), " + o.iters() + " iterations, batch " + o.batchSize()
                + ", context " + o.contextLength() + ", lr " + o.lr() + ", seed " + o.seed() + ", "
                + Threads.current() + " threads");
        System.out.println(String.format(Locale.ROOT, "model: %,d parameters", recipe.model().parameterCount()));

        Trainer trainer = recipe.trainerBuilder().checkpoints(run.dir(), o.evalEvery())
                .listener(new ProgressBar()).listener(new MetricsLog(run, 10)).build();
        if (cmd.resume != null) {
            trainer.resume(cmd.resume);
            System.out.println("resumed from " + cmd.resume + " at step " + trainer.step());
        }
        long startStep = trainer.step(); // > 0 when resumed
        LanguageModelRecipe.Result result;
        if (cmd.dashboardPort != null) {
            try (DashboardServer dashboard = new DashboardServer(run.dir(), cmd.dashboardPort, "--dashboard=0")) {
                System.out.println("dashboard: " + dashboard.url() + " (live while training runs)");
                result = recipe.fit(trainer);
            }
        } else {
            result = recipe.fit(trainer);
        }
        run.saveModel(recipe.model());

        double wall = (System.nanoTime() - wallStart) / 1e9;
        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("val_loss", result.valLoss());
        metrics.put("train_loss", result.trainLoss());
        metrics.put("iters", result.steps());
        metrics.put("steps", result.steps());
        metrics.put("train_time_s", result.trainSeconds());
        long ran = result.steps() - startStep;
        metrics.put("ms_per_iter", ran == 0 ? null : 1e3 * result.trainSeconds() / ran);
        metrics.put("wall_time_s", wall);
        if (result.history().last() != null) {
            metrics.put("final_train_loss", result.history().last().trainLoss());
        }
        metrics.put("validations", result.validations());
        run.put("metrics", metrics);
        run.put("wall_time_s", wall);
        run.put("stop_reason", result.history().stopReason());
        System.out.println(String.format(Locale.ROOT, "val loss %.4f, train loss %.4f (mean over %d random batches "
                + "each), %d iterations, train %.1f s, wall %.1f s", result.valLoss(), result.trainLoss(),
                o.evalBatches(), result.steps(), result.trainSeconds(), wall));
        System.out.println("run folder: " + run.dir());
        System.out.println("report: " + RunReport.write(run.dir()));
        run.recordArtifact("tokenizer.json");
        run.recordArtifact("report.html");
        System.out.println("sample: ./backprop generate " + run.id() + (cmd.out.equals(Path.of("runs")) ? ""
                : " --runs " + cmd.out) + " --prompt \"" + firstPromptCharacter(corpus) + "\" --tokens 300");
        return 0;
    }

    private static String firstPromptCharacter(TextCorpus corpus) {
        String t = corpus.text();
        int end = t.offsetByCodePoints(0, Math.min(t.codePointCount(0, t.length()), 1));
        String c = t.substring(0, end);
        return c.equals("\"") || c.equals("\\") || c.equals("$") || c.equals("`") || c.isBlank() ? "\\n" : c;
    }

    /** Options of the image and tabular recipes that mean nothing here: an error rather than silence. */
    private static void rejectImageOptions(TrainCommand cmd, String name) {
        Map<String, Boolean> given = new LinkedHashMap<>();
        given.put("--epochs", cmd.epochs != null);
        given.put("--max-steps", cmd.maxSteps != 0);
        given.put("--val-fraction", cmd.valFraction != 0);
        given.put("--regression", cmd.regression);
        given.put("--test", cmd.testFile != null);
        given.put("--target", cmd.options.target != null);
        given.put("--init-from", cmd.initFrom != null);
        for (Map.Entry<String, Boolean> e : given.entrySet()) {
            if (e.getValue()) {
                throw new IllegalArgumentException(name + " does not take " + e.getKey() + ": it trains for --iters "
                        + "iterations (default 2000) and validates on its own fixed batches of the last 10% of the "
                        + "text; its options are --data, --iters, --batch-size, --lr, --seed, --threads, --out, "
                        + "--resume and --dashboard");
            }
        }
    }
}
