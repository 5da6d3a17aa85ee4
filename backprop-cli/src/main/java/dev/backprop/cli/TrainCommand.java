package dev.backprop.cli;

import dev.backprop.data.DataLoader;
import dev.backprop.data.Dataset;
import dev.backprop.data.Datasets;
import dev.backprop.nn.F;
import dev.backprop.nn.Module;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Generator;
import dev.backprop.train.EpochReport;
import dev.backprop.train.FineTuning;
import dev.backprop.train.Evaluation;
import dev.backprop.train.History;
import dev.backprop.train.MetricsLog;
import dev.backprop.train.ProgressBar;
import dev.backprop.train.RunFolder;
import dev.backprop.train.Trainer;
import dev.backprop.train.TrainingListener;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code backprop train}: trains a recipe, writes a run folder, reports test metrics. */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Trains a recipe (mlp, cnn, cnn-bn, tabular, intent, translate; char-gpt, char-lstm) and writes "
                + "runs/<id>/ with manifest.json, metrics.jsonl, model.safetensors and checkpoints. With no "
                + "arguments: the cnn recipe on a data set backprop generates itself (28x28 shapes, 10 classes). "
                + "char-gpt (the W3 "
                + "transformer, the Q2 protocol) and char-lstm (W4, truncated BPTT) are character language models "
                + "of a UTF-8 text (--data FILE, default ../shared/data/tinyshakespeare.txt): 2000 iterations "
                + "(--iters), validation every 500; the run also holds tokenizer.json, and `backprop generate RUN` "
                + "samples from it.")
final class TrainCommand implements Callable<Integer> {

    @Mixin
    RecipeOptions options;

    @Mixin
    TranslateOptions translateOptions;

    @Option(names = "--regression", description = "tabular: a numeric target (MSE) instead of classes")
    boolean regression;

    @Option(names = "--test", paramLabel = "FILE", description = "tabular: a test CSV (default: hold out 20%%)")
    Path testFile;

    @Option(names = "--epochs", paramLabel = "N", description = "epochs (default: the recipe's)")
    Integer epochs;

    @Option(names = "--max-steps", paramLabel = "N", defaultValue = "0",
            description = "stop after N optimizer steps (default: no limit)")
    long maxSteps;

    @Option(names = "--iters", paramLabel = "N",
            description = "char-gpt, char-lstm: training iterations (default: 2000)")
    Integer iters;

    @Option(names = "--lr", paramLabel = "X", description = "learning rate (default: the recipe's)")
    Double lr;

    @Option(names = "--val-fraction", paramLabel = "F", defaultValue = "0",
            description = "hold out this fraction of the training data for validation each epoch (default: 0)")
    double valFraction;

    @Option(names = "--out", paramLabel = "DIR", defaultValue = "runs", description = "runs folder (default: ${DEFAULT-VALUE})")
    Path out;

    @Option(names = "--resume", paramLabel = "CHECKPOINT", description = "continue from a checkpoint file")
    Path resume;

    @Option(names = "--init-from", paramLabel = "RUN",
            description = "Fine-tune: start from the weights of run RUN (an id under --out, or a run folder or a "
                    + ".safetensors file); tensors whose shape differs, such as a head for another number of "
                    + "classes, keep their fresh initialisation.")
    String initFrom;

    @Option(names = "--dashboard", paramLabel = "PORT", arity = "0..1", fallbackValue = "8765",
            description = "Serve a live dashboard of the run on http://127.0.0.1:PORT/ (loopback only; default port "
                    + "8765, 0 for any free one) while training runs.")
    Integer dashboardPort;

    @Option(names = "--memory-budget", paramLabel = "SIZE",
            description = "memory the run may use (4g, 512m; default: the JVM heap, -Xmx): a model, batch or tensor "
                    + "that would need more is refused before it is allocated, with the size it needed")
    String memoryBudget;

    @Option(names = "--spark", paramLabel = "MASTER",
            description = "Train on Apache Spark: local[N], local-cluster[W,C,MB], spark://HOST:PORT, yarn, ... "
                    + "(data-parallel; see docs/spark.md). ./backprop adds the Spark module to the class path.")
    String spark;

    @Option(names = "--spark-strategy", paramLabel = "S", defaultValue = "sync",
            description = "with --spark: sync (a gradient sum per step, the same as one process) or local-sgd "
                    + "(--local-steps steps per partition, then the models are averaged) (default: ${DEFAULT-VALUE})")
    String sparkStrategy;

    @Option(names = "--local-steps", paramLabel = "K", defaultValue = "8",
            description = "with --spark-strategy local-sgd: local steps between averagings (default: ${DEFAULT-VALUE})")
    int localSteps;

    @Option(names = "--partitions", paramLabel = "N",
            description = "with --spark: data partitions, one task each per step (default: the master's task slots)")
    Integer partitions;

    @Option(names = "--micro-batch", paramLabel = "N", defaultValue = "256",
            description = "with --spark: largest batch of one forward pass on an executor (default: ${DEFAULT-VALUE})")
    int microBatch;

    @Override
    public Integer call() throws Exception {
        if (memoryBudget != null) {
            try {
                dev.backprop.tensor.MemoryBudget.set(dev.backprop.tensor.MemoryBudget.parse(memoryBudget));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("--memory-budget " + memoryBudget + ": " + e.getMessage(), e);
            }
        }
        if (spark != null) {
            if (!sparkAvailable()) {
                throw new IllegalArgumentException("--spark needs the backprop-spark module and Spark on the class "
                        + "path, which backprop.jar does not hold (it stays small): run through ./backprop, which "
                        + "adds them when --spark is given, or add backprop-spark/target/backprop-spark-*.jar and the "
                        + "jars listed in backprop-spark/target/classpath.txt (written by `mvn package`) to -cp");
            }
            if (dev.backprop.train.LanguageModelRecipe.isRecipe(options.recipeName)
                    || TranslateRecipe.NAME.equals(options.recipeName) || IntentRecipe.NAME.equals(options.recipeName)) {
                throw new IllegalArgumentException("--spark trains the image and tabular recipes " + Recipes.names()
                        + "; " + options.recipeName + " trains on one machine");
            }
            return SparkTraining.run(this);
        }
        if (dev.backprop.train.LanguageModelRecipe.isRecipe(options.recipeName)) {
            return LanguageModelTraining.run(this);
        }
        if (iters != null) {
            throw new IllegalArgumentException("--iters is for the language-model recipes (char-gpt, char-lstm); "
                    + options.recipeName + " trains for --epochs, or stops early with --max-steps");
        }
        if (TranslateRecipe.NAME.equals(options.recipeName)) {
            Path data = Path.of("synthetic".equals(options.data) ? TranslateOptions.DEFAULT_DATA : options.data);
            return TranslateRecipe.train(data, translateOptions, epochs, maxSteps, lr, options.seed, options.threads,
                    out);
        }
        if (IntentRecipe.NAME.equals(options.recipeName)) {
            return IntentRecipe.train(this);
        }
        long wallStart = System.nanoTime();
        Recipes.Recipe recipe = options.recipe();
        int nEpochs = epochs != null ? epochs : recipe.defaultEpochs();
        int bs = options.batchSize(recipe);
        double learningRate = lr != null ? lr : recipe.defaultLr();
        long seed = options.seed;
        RunData rd = options.load(recipe, regression, testFile);
        Dataset trainSet = rd.train();
        Dataset valSet = null;
        if (valFraction > 0) {
            var parts = Datasets.randomSplit(trainSet, new double[] {1 - valFraction, valFraction},
                    new Generator(seed + 1));
            trainSet = parts.get(0);
            valSet = parts.get(1);
        }
        DataLoader train = DataLoader.builder(trainSet).batchSize(bs).shuffle(true).seed(seed)
                .transform(recipe.augmentation()).build();
        DataLoader val = valSet == null ? null : new DataLoader(valSet, 1000, false, 0);
        DataLoader test = new DataLoader(rd.test(), 1000, false, 0);

        Module model = recipe.model(new Recipes.DataShape(rd.inputShape(), rd.numClasses()));
        String initRun = null;
        if (initFrom != null) {
            Path weights = initWeights(initFrom);
            FineTuning.Result r = FineTuning.loadMatching(model, weights);
            initRun = weights.toString();
            System.out.println("fine-tuning from " + weights + ": " + r.loaded().size() + " tensors loaded"
                    + (r.reinitialised().isEmpty() ? "" : "; re-initialised (shape differs): "
                            + String.join(", ", r.reinitialised()))
                    + (r.missing().isEmpty() ? "" : "; not in the file: " + String.join(", ", r.missing())));
        }
        Optimizer optimizer = recipe.optimizer(model, learningRate);
        LRScheduler scheduler = recipe.scheduler(optimizer, learningRate, train.numBatches(), nEpochs);
        boolean classification = rd.numClasses() > 0;
        Trainer.Loss loss = classification ? F::crossEntropy : (o, t) -> F.mseLoss(o.reshape(-1), t.reshape(-1));

        RunFolder run = RunFolder.create(out, recipe.name());
        Map<String, Object> hyper = new LinkedHashMap<>();
        hyper.put("epochs", nEpochs);
        hyper.put("batch_size", bs);
        hyper.put("lr", learningRate);
        hyper.put("seed", seed);
        hyper.put("optimizer", optimizer.getClass().getSimpleName());
        hyper.put("optimizer_options", optimizer.paramGroups().get(0).options());
        hyper.put("scheduler", scheduler == null ? null : options.recipeName.equals("tabular") ? "cosine" : "one-cycle");
        hyper.put("augmentation", recipe.augmentation() == null ? null : "random crop (padding 2) + horizontal flip");
        hyper.put("val_fraction", valFraction);
        hyper.put("max_steps", maxSteps);
        hyper.put("threads", Threads.current());
        hyper.put("init_from", initRun);
        run.put("description", recipe.description());
        run.put("hyperparameters", hyper);
        run.put("model", Map.of("summary", model.toString(), "parameters", model.parameterCount(),
                "input_shape", Arrays.stream(rd.inputShape()).boxed().toList(), "num_classes", rd.numClasses()));
        run.put("data_description", rd.description());
        for (int i = 0; i < rd.files().size(); i++) {
            run.recordData(rd.files().get(i).getFileName().toString(), rd.files().get(i));
        }
        System.out.println("run " + run.id() + ": " + recipe.name() + " on " + rd.source() + " ("
                + rd.train().size() + " training examples), " + nEpochs + " epochs, batch " + bs + ", lr "
                + learningRate + ", seed " + seed + ", " + Threads.current() + " threads");
        System.out.println(String.format(Locale.ROOT, "model: %,d parameters", model.parameterCount()));

        List<Double> epochSeconds = new ArrayList<>();
        Trainer.Builder tb = Trainer.builder(model, optimizer, loss).epochs(nEpochs).maxSteps(maxSteps)
                .scheduler(scheduler)
                .checkpoints(run.dir(), 0).listener(new ProgressBar()).listener(new MetricsLog(run, 10))
                .listener(new TrainingListener() {
                    @Override
                    public void onEpochEnd(Trainer t, EpochReport e) {
                        epochSeconds.add(e.seconds());
                    }
                });
        if (classification) {
            tb.numClasses(rd.numClasses()).monitor("val_accuracy");
        }
        Trainer trainer = tb.build();
        if (resume != null) {
            trainer.resume(resume);
            System.out.println("resumed from " + resume + " at step " + trainer.step());
        }
        History history;
        if (dashboardPort != null) {
            try (DashboardServer dashboard = new DashboardServer(run.dir(), dashboardPort, "--dashboard=0")) {
                System.out.println("dashboard: " + dashboard.url() + " (live while training runs)");
                history = trainer.fit(train, val);
            }
        } else {
            history = trainer.fit(train, val);
        }
        if (history.stopReason().startsWith(Trainer.DIVERGED)) {
            run.put("stop_reason", history.stopReason());
            run.put("diagnoses", trainer.diagnoses().stream().map(d -> d.rule() + ": " + d.message()).toList());
            Path last = run.dir().resolve("checkpoint-last.safetensors");
            System.err.println("training " + history.stopReason() + "; no model.safetensors was written (its weights "
                    + "would not be finite). " + trainer.diagnoses().stream()
                            .filter(d -> d.rule().equals(dev.backprop.diagnostics.Doctor.NON_FINITE))
                            .map(d -> d.message() + " Try: " + d.fix()).findFirst().orElse("")
                    + (java.nio.file.Files.exists(last) ? " The last checkpoint, from a finite step: " + last
                            + " (--resume it with a lower --lr)" : ""));
            return 3;
        }
        Evaluation result = trainer.evaluate(test);
        run.saveModel(model);

        Map<String, Object> metrics = new LinkedHashMap<>();
        metrics.put("test_loss", result.loss());
        if (classification) {
            metrics.put("test_accuracy", result.accuracy());
            metrics.put("test_macro_f1", result.confusion().macroF1());
            metrics.put("confusion_matrix", result.confusion().counts());
            metrics.put("classes", rd.classes());
        }
        if (history.last() != null) {
            metrics.put("final_train_loss", history.last().trainLoss());
        }
        metrics.put("steps", history.steps());
        run.put("metrics", metrics);
        run.put("time_per_epoch_s", epochSeconds);
        run.put("wall_time_s", (System.nanoTime() - wallStart) / 1e9);
        run.put("stop_reason", history.stopReason());
        if (classification) {
            System.out.println(String.format(Locale.ROOT, "test accuracy %.4f, test loss %.4f (%d examples)",
                    result.accuracy(), result.loss(), result.examples()));
        } else {
            System.out.println(String.format(Locale.ROOT, "test MSE %.4f (%d examples)", result.loss(),
                    result.examples()));
        }
        System.out.println("run folder: " + run.dir());
        System.out.println("report: " + dev.backprop.train.RunReport.write(run.dir()));
        run.recordArtifact("report.html");
        return 0;
    }

    /**
     * Whether backprop-spark and Spark are on the class path (checked here: loading
     * {@link SparkTraining} without them fails).
     */
    private static boolean sparkAvailable() {
        try {
            Class.forName("org.apache.spark.SparkContext", false, TrainCommand.class.getClassLoader());
            Class.forName("dev.backprop.spark.SparkTrainer", false, TrainCommand.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }

    /** The weights file of {@code --init-from}: a .safetensors file, a run folder, or a run id under --out. */
    private Path initWeights(String ref) throws java.io.IOException {
        Path p = Path.of(ref);
        if (Files.isRegularFile(p)) {
            return p;
        }
        Path dir;
        try {
            dir = RunRef.verified(RunRef.find(ref, out));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("--init-from " + ref + ": expected a .safetensors file, a run folder or "
                    + "a run id; " + e.getMessage(), e);
        }
        Path weights = dir.resolve("model.safetensors");
        if (!Files.isRegularFile(weights)) {
            throw new IllegalArgumentException("--init-from " + ref + ": the run has no model.safetensors (did it "
                    + "finish? `backprop runs` lists the runs); not found: " + weights);
        }
        return weights;
    }
}
