package dev.backprop.cli;

import dev.backprop.data.Dataset;
import dev.backprop.data.Datasets;
import dev.backprop.nn.F;
import dev.backprop.nn.Module;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.spark.ExampleBlock;
import dev.backprop.spark.ModelFactory;
import dev.backprop.spark.OptimizerFactory;
import dev.backprop.spark.SparkContexts;
import dev.backprop.spark.SparkData;
import dev.backprop.spark.SparkHistory;
import dev.backprop.spark.SparkLoss;
import dev.backprop.spark.SparkTrainer;
import dev.backprop.tensor.Generator;
import dev.backprop.train.Evaluation;
import dev.backprop.train.RunFolder;
import dev.backprop.train.RunReport;
import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * {@code backprop train RECIPE --spark MASTER}: the recipe trained by a {@link SparkTrainer}. Loaded
 * only on that path: the Spark classes are not in backprop.jar (the launcher adds backprop-spark
 * and its dependencies to the class path when {@code --spark} is given).
 */
final class SparkTraining {
    private SparkTraining() {}

    /** The recipe's model, built on the driver and on the executors from serializable parts. */
    record RecipeModel(String recipe, int[] inputShape, int numClasses) implements ModelFactory {
        @Override
        public Module create() {
            return Recipes.get(recipe).model(new Recipes.DataShape(inputShape, numClasses));
        }
    }

    /** The recipe's optimizer. */
    record RecipeOptimizer(String recipe, double lr) implements OptimizerFactory {
        @Override
        public Optimizer create(Module model) {
            return Recipes.get(recipe).optimizer(model, lr);
        }
    }

    static int run(TrainCommand c) throws Exception {
        long wallStart = System.nanoTime();
        RecipeOptions options = c.options;
        Recipes.Recipe recipe = options.recipe();
        if (c.resume != null || c.initFrom != null || c.dashboardPort != null) {
            throw new IllegalArgumentException("--spark does not take --resume, --init-from or --dashboard yet; "
                    + "`backprop dashboard RUN` shows a Spark run while it trains");
        }
        int nEpochs = c.epochs != null ? c.epochs : recipe.defaultEpochs();
        int bs = options.batchSize(recipe);
        double learningRate = c.lr != null ? c.lr : recipe.defaultLr();
        long seed = options.seed;
        RunData rd = options.load(recipe, c.regression, c.testFile);
        if (rd.numClasses() <= 0) {
            throw new IllegalArgumentException("--spark trains classification recipes; this data has a numeric target");
        }
        Dataset trainSet = rd.train();
        Dataset valSet = null;
        if (c.valFraction > 0) {
            var parts = Datasets.randomSplit(trainSet, new double[] {1 - c.valFraction, c.valFraction},
                    new Generator(seed + 1));
            trainSet = parts.get(0);
            valSet = parts.get(1);
        }
        SparkTrainer.Strategy strategy = SparkTrainer.Strategy.parse(c.sparkStrategy);
        for (String quiet : List.of("org.apache.spark", "org.sparkproject", "org.apache.hadoop")) { // Spark says a lot at INFO
            String key = "org.slf4j.simpleLogger.log." + quiet;
            if (System.getProperty(key) == null) {
                System.setProperty(key, "warn");
            }
        }
        String master = c.spark;
        SparkConf conf = SparkContexts.conf(master, "backprop train " + recipe.name());
        List<String> jars = shippedJars();
        if (!master.startsWith("local[") && !master.equals("local") && !jars.isEmpty()) {
            conf.set("spark.jars", String.join(",", jars)); // executors elsewhere need backprop's classes
        }
        try (JavaSparkContext sc = new JavaSparkContext(conf)) {
            sc.setLogLevel("WARN");
            int partitions = c.partitions != null ? c.partitions : defaultPartitions(master, sc);
            int stepsPerEpoch = Math.max(1, trainSet.size() / bs);
            RecipeModel factory = new RecipeModel(recipe.name(), rd.inputShape(), rd.numClasses());
            Module model = factory.create(); // on the driver, after --seed: the same initial weights as `train`
            RunFolder run = RunFolder.create(c.out, recipe.name());
            SparkTrainer.Builder builder = SparkTrainer.builder(sc, factory, new RecipeOptimizer(recipe.name(), learningRate),
                    (SparkLoss) F::crossEntropy).initialModel(model).strategy(strategy).localSteps(c.localSteps)
                    .globalBatchSize(bs).microBatchSize(c.microBatch).epochs(nEpochs).maxSteps(c.maxSteps).seed(seed)
                    .numClasses(rd.numClasses()).run(run).log(System.out, Math.max(1, stepsPerEpoch / 5))
                    .scheduler(o -> recipe.scheduler(o, learningRate, stepsPerEpoch, nEpochs));
            if (options.threads != null) { // else each executor uses its cores
                builder.kernelThreads(options.threads);
            }
            SparkTrainer trainer = builder.build();
            Optimizer optimizer = trainer.optimizer();
            Map<String, Object> hyper = new LinkedHashMap<>();
            hyper.put("epochs", nEpochs);
            hyper.put("batch_size", bs);
            hyper.put("lr", learningRate);
            hyper.put("seed", seed);
            hyper.put("optimizer", optimizer.getClass().getSimpleName());
            hyper.put("optimizer_options", optimizer.paramGroups().get(0).options());
            hyper.put("scheduler", recipe.scheduler(recipe.optimizer(recipe.model(new Recipes.DataShape(
                    rd.inputShape(), rd.numClasses())), learningRate), learningRate, stepsPerEpoch, nEpochs) == null
                    ? null : options.recipeName.equals("tabular") ? "cosine" : "one-cycle");
            hyper.put("augmentation", null);
            hyper.put("val_fraction", c.valFraction);
            hyper.put("max_steps", c.maxSteps);
            hyper.put("threads", options.threads);
            Map<String, Object> spark = new LinkedHashMap<>();
            spark.put("master", master);
            spark.put("spark_version", sc.version());
            spark.put("strategy", strategy.label());
            spark.put("partitions", partitions);
            spark.put("global_batch_size", bs);
            spark.put("micro_batch_size", c.microBatch);
            if (strategy == SparkTrainer.Strategy.LOCAL_SGD) {
                spark.put("local_steps", c.localSteps);
            }
            spark.put("reduction", "ordered");
            hyper.put("spark", spark);
            run.put("description", recipe.description() + " (trained on Spark, " + strategy.label() + ")");
            run.put("hyperparameters", hyper);
            run.put("model", Map.of("summary", model.toString(), "parameters", model.parameterCount()));
            run.put("data_description", rd.description());
            for (int i = 0; i < rd.files().size(); i++) {
                run.recordData(rd.files().get(i).getFileName().toString(), rd.files().get(i));
            }
            System.out.println("run " + run.id() + ": " + recipe.name() + " on " + rd.source() + " ("
                    + trainSet.size() + " training examples) on Spark " + sc.version() + " " + master + ", "
                    + strategy.label() + ", " + partitions + " partitions, " + nEpochs + " epochs, global batch " + bs
                    + ", lr " + learningRate + ", seed " + seed);
            if (recipe.augmentation() != null) {
                System.out.println("note: the recipe's augmentation is not applied on Spark");
            }
            JavaRDD<ExampleBlock> data = SparkData.fromDataset(sc, trainSet, partitions, seed);
            SparkHistory history = trainer.fit(data, valSet);
            Evaluation result = trainer.evaluate(rd.test());
            run.saveModel(trainer.model());

            Map<String, Object> metrics = new LinkedHashMap<>();
            metrics.put("test_loss", result.loss());
            metrics.put("test_accuracy", result.accuracy());
            metrics.put("test_macro_f1", result.confusion().macroF1());
            metrics.put("confusion_matrix", result.confusion().counts());
            metrics.put("classes", rd.classes());
            if (history.last() != null) {
                metrics.put("final_train_loss", history.last().trainLoss());
            }
            metrics.put("steps", history.steps());
            run.put("metrics", metrics);
            List<Double> epochSeconds = new ArrayList<>();
            history.epochs().forEach(e -> epochSeconds.add(e.seconds()));
            run.put("time_per_epoch_s", epochSeconds);
            Map<String, Object> timing = new LinkedHashMap<>();
            timing.put("median_sync_s", finite(history.medianSyncSeconds(3)));
            timing.put("median_overhead_s", finite(history.medianOverheadSeconds(3)));
            timing.put("examples_per_s", finite(history.examplesPerSecond(3)));
            timing.put("synchronisations", history.syncSeconds().size());
            run.put("spark_timing", timing);
            run.put("wall_time_s", (System.nanoTime() - wallStart) / 1e9);
            run.put("stop_reason", history.stopReason());
            System.out.println(String.format(Locale.ROOT, "test accuracy %.4f, test loss %.4f (%d examples)",
                    result.accuracy(), result.loss(), result.examples()));
            System.out.println(String.format(Locale.ROOT, "spark: %.1f ms per %s (median), %.1f ms of it beyond the "
                    + "longest partition's compute; %.0f examples/s", history.medianSyncSeconds(3) * 1e3,
                    strategy == SparkTrainer.Strategy.SYNC ? "step" : "round", history.medianOverheadSeconds(3) * 1e3,
                    history.examplesPerSecond(3)));
            System.out.println("run folder: " + run.dir());
            System.out.println("report: " + RunReport.write(run.dir()));
        }
        return 0;
    }

    private static Double finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    /** local[N] and local[N,F]: N; local[*]: the cores; local-cluster[W,C,M]: W*C; else Spark's default parallelism. */
    static int defaultPartitions(String master, JavaSparkContext sc) {
        Matcher m = Pattern.compile("local\\[(\\d+|\\*)(,\\d+)?]").matcher(master);
        if (m.matches()) {
            return m.group(1).equals("*") ? Runtime.getRuntime().availableProcessors() : Integer.parseInt(m.group(1));
        }
        Matcher lc = Pattern.compile("local-cluster\\[(\\d+),\\s*(\\d+),\\s*\\d+]").matcher(master);
        if (lc.matches()) {
            return Integer.parseInt(lc.group(1)) * Integer.parseInt(lc.group(2));
        }
        if (master.equals("local")) {
            return 1;
        }
        return sc.defaultParallelism();
    }

    /** The jars holding backprop's classes (the CLI jar and backprop-spark), to ship to executors. */
    private static List<String> shippedJars() {
        List<String> out = new ArrayList<>();
        for (Class<?> k : List.of(SparkTraining.class, SparkTrainer.class)) {
            try {
                Path p = Path.of(k.getProtectionDomain().getCodeSource().getLocation().toURI());
                if (p.toString().endsWith(".jar") && !out.contains(p.toString())) {
                    out.add(p.toString());
                }
            } catch (Exception e) {
                // not from a jar (classes folder): nothing to ship
            }
        }
        return out.stream().map(s -> new File(s).getAbsolutePath()).toList();
    }
}
