package dev.backprop.spark;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.DataLoader;
import dev.backprop.data.Dataset;
import dev.backprop.diagnostics.Diagnosis;
import dev.backprop.diagnostics.Doctor;
import dev.backprop.diagnostics.Monitor;
import dev.backprop.diagnostics.Norms;
import dev.backprop.diagnostics.StepStats;
import dev.backprop.kernels.Kernels;
import dev.backprop.nn.Module;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.EpochReport;
import dev.backprop.train.Evaluation;
import dev.backprop.train.MetricsLog;
import dev.backprop.train.RunFolder;
import dev.backprop.train.StepReport;
import dev.backprop.train.Trainer;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.storage.StorageLevel;

/**
 * Data-parallel training of a backprop model on Apache Spark. The data is an RDD of
 * {@link ExampleBlock}s ({@link SparkData}), one per partition; the model is built from a
 * serializable {@link ModelFactory} on the driver and on the executors. Two strategies:
 *
 * <ul>
 *   <li>{@link Strategy#SYNC synchronous data parallelism}: at every step the driver broadcasts
 *       the weights, each partition computes the gradient of its shard of the global batch (in
 *       micro-batches), the gradients are summed, and the driver's optimizer takes the step. This
 *       is the same computation as single-process training on the same global batch: with
 *       {@link Reduction#ORDERED} the partition gradients are added in partition order, so a run
 *       is reproducible bit for bit and equals a single-process computation that sums the same
 *       micro-batch gradients in the same order (see {@link ShardPlan} for which examples make a
 *       step's global batch).
 *   <li>{@link Strategy#LOCAL_SGD local SGD}: each partition takes {@code K} optimizer steps of its
 *       own on its shards, then the parameters, buffers and optimizer state are averaged on the
 *       driver: one synchronisation per {@code K} steps instead of one per step.
 * </ul>
 *
 * <pre>{@code
 * JavaRDD<ExampleBlock> data = SparkData.fromDataset(sc, FashionMnist.load().train(), 4, 42);
 * SparkTrainer t = SparkTrainer.builder(sc, () -> Workloads.mlp(), m -> new Adam(m.parameters(), 1e-3),
 *         F::crossEntropy).globalBatchSize(512).epochs(3).numClasses(10).build();
 * SparkHistory h = t.fit(data, null);
 * Module trained = t.model();       // an ordinary backprop model
 * }</pre>
 *
 * <p>The driver watches training as the single-machine {@link Trainer} does: a gradient-flow
 * {@link Monitor} and a {@link Doctor} run on the summed gradient (local SGD: the averaged
 * gradient of each round's last local step, and the update of the round divided by its local
 * steps), and with
 * {@link Builder#run(RunFolder)} the steps, epochs, gradient records and diagnoses go to the run
 * folder's {@code metrics.jsonl} in the same format. Not measured on Spark: dead ReLUs (the
 * forward passes run on the executors).
 *
 * <p>A failed task is retried by Spark ({@code spark.task.maxFailures}); tasks start from the
 * broadcast weights and the step's fixed shard, so a retried step gives the same result.
 */
public final class SparkTrainer {

    /** How the partitions' work is combined. */
    public enum Strategy {
        /** One gradient sum and one optimizer step on the driver per step. */
        SYNC,
        /** {@code K} local optimizer steps per partition, then the models are averaged. */
        LOCAL_SGD;

        /** Parses {@code sync} or {@code local-sgd}. */
        public static Strategy parse(String s) {
            return switch (s.toLowerCase(Locale.ROOT)) {
                case "sync", "synchronous" -> SYNC;
                case "local-sgd", "local_sgd", "localsgd" -> LOCAL_SGD;
                default -> throw new IllegalArgumentException("unknown Spark strategy '" + s
                        + "': expected sync or local-sgd");
            };
        }

        /** {@code sync} or {@code local-sgd}. */
        public String label() {
            return this == SYNC ? "sync" : "local-sgd";
        }
    }

    /** How the partitions' results reach the driver. */
    public enum Reduction {
        /**
         * {@code collect()}, then added on the driver in partition order: reproducible bit for bit;
         * the driver receives one model-sized vector per partition.
         */
        ORDERED,
        /**
         * {@code treeReduce} (depth 2): partial sums on the executors, about sqrt(partitions)
         * vectors reach the driver; the order of the additions, so the last bits, vary.
         */
        TREE
    }

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SparkTrainer.class);

    private final JavaSparkContext sc;
    private final ModelFactory modelFactory;
    private final OptimizerFactory optimizerFactory;
    private final SparkLoss loss;
    private final Strategy strategy;
    private final Reduction reduction;
    private final int localSteps;
    private final int globalBatch;
    private final int microBatch;
    private final int epochs;
    private final long maxSteps;
    private final long seed;
    private final Integer numClasses;
    private final boolean averageOptimizerState;
    private final int kernelThreads;
    private final RunFolder run;
    private final PrintStream log;
    private final int logEvery;
    private final Module model;
    private final Optimizer optimizer;
    private final LRScheduler scheduler;
    private final Monitor monitor;
    private final Doctor doctor;
    private final MetricsLog metrics;
    private final Tensor[] params;
    private final Tensor[] buffers;
    private final Trainer evaluator;

    private long step;
    private long rounds;

    private SparkTrainer(Builder b) {
        this.sc = b.sc;
        this.modelFactory = b.model;
        this.optimizerFactory = b.optimizer;
        this.loss = b.loss;
        this.strategy = b.strategy;
        this.reduction = b.reduction;
        this.localSteps = b.localSteps;
        this.globalBatch = b.globalBatch;
        this.microBatch = b.microBatch;
        this.epochs = b.epochs;
        this.maxSteps = b.maxSteps;
        this.seed = b.seed;
        this.numClasses = b.numClasses;
        this.averageOptimizerState = b.averageOptimizerState;
        this.kernelThreads = b.kernelThreads;
        this.run = b.run;
        this.log = b.log;
        this.logEvery = b.logEvery;
        this.model = b.initialModel != null ? b.initialModel : modelFactory.create();
        this.optimizer = optimizerFactory.create(model);
        this.scheduler = b.scheduler == null ? null : b.scheduler.apply(optimizer);
        Monitor.Options opts = b.diagnostics;
        this.monitor = opts == null ? null : new Monitor(model, opts);
        this.doctor = opts == null ? null : new Doctor();
        this.metrics = run == null ? null : new MetricsLog(run, strategy == Strategy.SYNC ? 10 : 1);
        // local SGD: the monitor's cadence counts rounds
        this.params = model.namedParameters().values().toArray(new Tensor[0]);
        this.buffers = Worker.floatBuffers(model);
        Trainer.Builder eb = Trainer.builder(model, optimizer, loss::compute).diagnostics(false);
        if (numClasses != null) {
            eb.numClasses(numClasses);
        }
        this.evaluator = eb.build();
    }

    public static Builder builder(JavaSparkContext sc, ModelFactory model, OptimizerFactory optimizer, SparkLoss loss) {
        return new Builder(sc, model, optimizer, loss);
    }

    /** The driver's model: after {@link #fit} the trained one, an ordinary backprop {@link Module}. */
    public Module model() {
        return model;
    }

    /** The driver's optimizer (local SGD: holds the averaged state after {@link #fit}). */
    public Optimizer optimizer() {
        return optimizer;
    }

    /** Optimizer steps taken so far. */
    public long step() {
        return step;
    }

    /** The doctor's diagnoses so far (empty with diagnostics off). */
    public List<Diagnosis> diagnoses() {
        return doctor == null ? List.of() : doctor.diagnoses();
    }

    /** The gradient-flow monitor's records (empty with diagnostics off). */
    public List<StepStats> diagnostics() {
        return monitor == null ? List.of() : monitor.records();
    }

    /** Mean loss and (with {@code numClasses}) accuracy and confusion matrix of the driver's model on {@code data}. */
    public Evaluation evaluate(Dataset data) {
        return evaluator.evaluate(new DataLoader(data, 1000, false, 0));
    }

    /**
     * Trains on {@code data} (one {@link ExampleBlock} per partition; cached in executor memory for
     * the run) until the epochs or steps are done; validates on {@code validation} (may be null) on
     * the driver after each epoch.
     */
    public SparkHistory fit(JavaRDD<ExampleBlock> data, Dataset validation) {
        boolean cachedHere = data.getStorageLevel().equals(StorageLevel.NONE());
        JavaRDD<ExampleBlock> blocks = cachedHere ? data.persist(StorageLevel.MEMORY_ONLY()) : data;
        try {
            return fitCached(blocks, validation);
        } finally {
            if (cachedHere) {
                blocks.unpersist(false);
            }
        }
    }

    private SparkHistory fitCached(JavaRDD<ExampleBlock> blocks, Dataset validation) {
        List<int[]> info = blocks.map(b -> new int[] {b.size(), b.numClasses(), b.classification() ? 1 : 0}).collect();
        int[] sizes = info.stream().mapToInt(i -> i[0]).toArray();
        if (numClasses != null) {
            for (int p = 0; p < info.size(); p++) {
                if (info.get(p)[2] == 1 && info.get(p)[1] > numClasses) {
                    throw new IllegalArgumentException("partition " + p + " has class label " + (info.get(p)[1] - 1)
                            + " but numClasses is " + numClasses);
                }
            }
        }
        ShardPlan plan = new ShardPlan(sizes, globalBatch, seed);
        TaskSpec spec = new TaskSpec(UUID.randomUUID().toString(), modelFactory, optimizerFactory, loss, plan,
                microBatch, averageOptimizerState, kernelThreads);
        int steps = plan.stepsPerEpoch();
        if (log != null) {
            log.printf(Locale.ROOT, "spark: %s on %s, %d partitions (%s examples), global batch %d (%d steps per "
                    + "epoch)%s%n", strategy.label(), sc.master(), plan.partitions(), Arrays.toString(sizes),
                    plan.globalBatch(0), steps, strategy == Strategy.LOCAL_SGD ? ", " + localSteps
                            + " local steps per round" : "");
        }
        SparkHistory history = new SparkHistory();
        String stop = null;
        OptimizerStateData avgState = null;
        for (int epoch = 0; epoch < epochs && stop == null; epoch++) {
            long epochStart = System.nanoTime();
            double lossSum = 0;
            long correct = 0;
            long examples = 0;
            int t = 0;
            while (t < steps) {
                int k = strategy == Strategy.SYNC ? 1 : Math.min(localSteps, steps - t);
                if (maxSteps > 0) {
                    k = (int) Math.min(k, maxSteps - step);
                }
                long syncStart = System.nanoTime();
                Partial total;
                double lr = optimizer.lr();
                if (strategy == Strategy.SYNC) {
                    total = syncStep(blocks, spec, epoch, t);
                } else {
                    double[] lrs = new double[k];
                    for (int i = 0; i < k; i++) {
                        lrs[i] = optimizer.lr();
                        if (scheduler != null) {
                            scheduler.step();
                        }
                    }
                    total = localRound(blocks, spec, avgState, lrs, epoch, t);
                    avgState = total.state;
                }
                double seconds = (System.nanoTime() - syncStart) / 1e9;
                history.addSync(seconds, total.maxComputeNanos / 1e9, (int) total.examples);
                double stepLoss = total.lossSum / Math.max(1, total.examples);
                lossSum += total.lossSum;
                correct += total.correct;
                examples += total.examples;
                t += k;
                StepReport report = new StepReport(step, epoch, t - 1, steps, stepLoss, lr,
                        lastGradNorm, (int) total.examples, seconds);
                if (metrics != null) {
                    metrics.onStep(null, report);
                }
                if (doctor != null) {
                    doctor.recordTrainingLoss(stepLoss);
                    report(doctor.observeLoss(step, stepLoss));
                }
                if (lastStats != null) {
                    if (metrics != null) {
                        metrics.onDiagnostics(null, lastStats);
                    }
                    report(doctor.observe(lastStats));
                    lastStats = null;
                }
                if (log != null && logEvery > 0 && (step % logEvery < k || t == steps)) {
                    log.printf(Locale.ROOT, "epoch %d  step %d/%d  loss %.4f  %.0f examples/s  (%.0f ms per %s, "
                            + "%.0f ms of it computing)%n", epoch + 1, t, steps, stepLoss, total.examples / seconds,
                            seconds * 1e3, strategy == Strategy.SYNC ? "step" : "round", total.maxComputeNanos / 1e6);
                }
                if (maxSteps > 0 && step >= maxSteps) {
                    stop = "max steps";
                    break;
                }
            }
            if (stop != null && t < steps) {
                break; // stopped inside the epoch
            }
            double seconds = (System.nanoTime() - epochStart) / 1e9;
            Evaluation val = validation == null ? null : evaluate(validation);
            EpochReport e = new EpochReport(epoch, lossSum / Math.max(1, examples),
                    numClasses == null ? Double.NaN : (double) correct / Math.max(1, examples), val, seconds);
            history.addEpoch(e);
            if (val != null && doctor != null) {
                report(doctor.observeValidation(step, val.loss()));
            }
            logEpoch(e);
        }
        if (avgState != null) {
            optimizer.loadState(avgState.toState());
        }
        history.finish(step, stop == null ? "epochs" : stop);
        if (run != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("type", "end");
            r.put("step", step);
            r.put("epochs", history.epochs().size());
            r.put("stop_reason", history.stopReason());
            write(r);
        }
        return history;
    }

    private double lastGradNorm = Double.NaN;
    private StepStats lastStats;

    /** One synchronous step: gradients from every partition, summed; the optimizer step on the driver. */
    private Partial syncStep(JavaRDD<ExampleBlock> blocks, TaskSpec spec, int epoch, int t) {
        Broadcast<float[][]> weights = sc.broadcast(new float[][] {Worker.flatten(params), Worker.flatten(buffers)});
        Partial total;
        try {
            JavaRDD<Partial> parts = blocks.mapPartitionsWithIndex(
                    (p, it) -> Worker.syncTask(spec, p, it, weights.value(), epoch, t), true);
            total = reduction == Reduction.ORDERED ? Partial.sumInOrder(parts.collect()) : parts.treeReduce(Partial::add, 2);
        } finally {
            weights.destroy();
        }
        float[] grad = total.vector;
        boolean armed = monitor != null && monitor.arm(step + 1);
        lastGradNorm = norm(grad);
        int off = 0;
        for (Tensor p : params) {
            p.setGrad(Tensor.of(Arrays.copyOfRange(grad, off, off + p.numel()), p.shape()));
            off += p.numel();
        }
        if (buffers.length > 0) { // running statistics: the mean over the partitions
            scale(total.buffers, 1f / total.count);
            Worker.load(buffers, total.buffers);
        }
        if (armed) {
            monitor.beforeOptimizerStep(lastGradNorm);
        }
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            optimizer.step();
        }
        double stepLoss = total.lossSum / Math.max(1, total.examples);
        lastStats = armed ? monitor.afterOptimizerStep(step + 1, stepLoss) : null;
        optimizer.zeroGrad();
        if (scheduler != null) {
            scheduler.step();
        }
        step++;
        return total;
    }

    /** One round of local SGD: K local steps on every partition, then the average. */
    private Partial localRound(JavaRDD<ExampleBlock> blocks, TaskSpec spec, OptimizerStateData state, double[] lrs,
            int epoch, int t0) {
        rounds++;
        boolean armed = monitor != null && monitor.arm(rounds);
        Broadcast<float[][]> weights = sc.broadcast(new float[][] {Worker.flatten(params), Worker.flatten(buffers)});
        Broadcast<OptimizerStateData> st = sc.broadcast(state);
        Partial total;
        try {
            JavaRDD<Partial> parts = blocks.mapPartitionsWithIndex((p, it) -> Worker.localSgdTask(spec, p, it,
                    weights.value(), st.value(), lrs, epoch, t0, armed), true);
            total = reduction == Reduction.ORDERED ? Partial.sumInOrder(parts.collect()) : parts.treeReduce(Partial::add, 2);
        } finally {
            weights.destroy();
            st.destroy();
        }
        float inv = 1f / total.count;
        scale(total.vector, inv);
        scale(total.buffers, inv);
        scale(total.lastGradient, inv);
        if (total.state != null) {
            total.state.scale(inv);
        }
        lastGradNorm = armed ? norm(total.lastGradient) : Double.NaN;
        if (armed) {
            int off = 0;
            for (Tensor p : params) {
                p.setGrad(Tensor.of(Arrays.copyOfRange(total.lastGradient, off, off + p.numel()), p.shape()));
                off += p.numel();
            }
            monitor.beforeOptimizerStep(lastGradNorm);
        }
        Worker.load(params, total.vector);
        Worker.load(buffers, total.buffers);
        step += lrs.length;
        StepStats round = armed ? monitor.afterOptimizerStep(step, total.lossSum / Math.max(1, total.examples)) : null;
        lastStats = round == null ? null : perLocalStep(round, lrs.length);
        model.zeroGrad();
        return total;
    }

    /**
     * A round's record with the update ratios divided by the round's local steps: the doctor's
     * learning-rate rules are about the change of one optimizer step, and a round is {@code k} of
     * them (exact when the local steps point the same way, an underestimate when they cancel).
     */
    private static StepStats perLocalStep(StepStats s, int k) {
        if (k == 1) {
            return s;
        }
        return new StepStats(s.step(), s.loss(), s.gradNorm(), s.nonFiniteFraction(), perStep(s.parameters(), k),
                perStep(s.layers(), k), s.dead());
    }

    private static Map<String, Norms> perStep(Map<String, Norms> m, int k) {
        Map<String, Norms> out = new LinkedHashMap<>();
        m.forEach((name, n) -> out.put(name, new Norms(n.gradNorm(), n.weightNorm(), n.updateRatio() / k,
                n.nonFiniteFraction(), n.hasGrad(), n.trainable())));
        return out;
    }

    private static void scale(float[] v, float f) {
        if (v != null) {
            for (int i = 0; i < v.length; i++) {
                v[i] *= f;
            }
        }
    }

    private static double norm(float[] v) {
        return Math.sqrt(Kernels.get().sumOfSquares(v, 0, v.length));
    }

    private void logEpoch(EpochReport e) {
        if (log != null) {
            log.printf(Locale.ROOT, "epoch %d: train loss %.4f%s%s (%.1f s)%n", e.epoch() + 1, e.trainLoss(),
                    Double.isNaN(e.trainAccuracy()) ? "" : String.format(Locale.ROOT, ", train accuracy %.4f",
                            e.trainAccuracy()),
                    e.validation() == null ? "" : String.format(Locale.ROOT, ", val loss %.4f, val accuracy %.4f",
                            e.validation().loss(), e.validation().accuracy()), e.seconds());
        }
        if (run != null) {
            Map<String, Object> r = new LinkedHashMap<>();
            r.put("type", "epoch");
            r.put("epoch", e.epoch());
            r.put("step", step);
            r.put("train_loss", finite(e.trainLoss()));
            r.put("train_accuracy", finite(e.trainAccuracy()));
            if (e.validation() != null) {
                r.put("val_loss", finite(e.validation().loss()));
                r.put("val_accuracy", finite(e.validation().accuracy()));
                if (e.validation().confusion() != null) {
                    r.put("val_confusion", e.validation().confusion().counts());
                }
            }
            r.put("seconds", e.seconds());
            write(r);
        }
    }

    private void report(List<Diagnosis> found) {
        for (Diagnosis d : found) {
            LOG.warn("{}", d);
            if (log != null) {
                log.println("doctor: " + d);
            }
            if (metrics != null) {
                metrics.onDiagnosis(null, d);
            }
        }
    }

    private static Object finite(double v) {
        return Double.isFinite(v) ? v : null;
    }

    private void write(Map<String, Object> r) {
        try {
            run.log(r);
        } catch (IOException ex) {
            throw new UncheckedIOException("could not append to " + run.dir().resolve("metrics.jsonl"), ex);
        }
    }

    /** Options of a {@link SparkTrainer}. */
    public static final class Builder {
        private final JavaSparkContext sc;
        private final ModelFactory model;
        private final OptimizerFactory optimizer;
        private final SparkLoss loss;
        private Strategy strategy = Strategy.SYNC;
        private Reduction reduction = Reduction.ORDERED;
        private int localSteps = 8;
        private int globalBatch = 256;
        private int microBatch = 256;
        private int epochs = 1;
        private long maxSteps;
        private long seed = 42;
        private Integer numClasses;
        private boolean averageOptimizerState = true;
        private int kernelThreads;
        private Function<Optimizer, LRScheduler> scheduler;
        private Monitor.Options diagnostics = Monitor.Options.DEFAULT;
        private RunFolder run;
        private PrintStream log;
        private int logEvery = 50;
        private Module initialModel;

        private Builder(JavaSparkContext sc, ModelFactory model, OptimizerFactory optimizer, SparkLoss loss) {
            this.sc = Objects.requireNonNull(sc, "sc");
            this.model = Objects.requireNonNull(model, "model factory");
            this.optimizer = Objects.requireNonNull(optimizer, "optimizer factory");
            this.loss = Objects.requireNonNull(loss, "loss");
        }

        /** {@link Strategy#SYNC} (the default) or {@link Strategy#LOCAL_SGD}. */
        public Builder strategy(Strategy s) {
            this.strategy = Objects.requireNonNull(s);
            return this;
        }

        /** {@link Reduction#ORDERED} (the default, reproducible) or {@link Reduction#TREE}. */
        public Builder reduction(Reduction r) {
            this.reduction = Objects.requireNonNull(r);
            return this;
        }

        /** Local SGD: optimizer steps each partition takes between two averagings (default 8). */
        public Builder localSteps(int k) {
            this.localSteps = positive(k, "local steps");
            return this;
        }

        /**
         * Examples per step, all partitions together (default 256); each partition's share is
         * proportional to its size. Local SGD: each partition's local step uses its share.
         */
        public Builder globalBatchSize(int n) {
            this.globalBatch = positive(n, "global batch size");
            return this;
        }

        /** Largest batch one forward pass on an executor takes (default 256): bounds executor memory. */
        public Builder microBatchSize(int n) {
            this.microBatch = positive(n, "micro-batch size");
            return this;
        }

        public Builder epochs(int n) {
            this.epochs = positive(n, "epochs");
            return this;
        }

        /** Stop after this many optimizer steps (0: no limit). */
        public Builder maxSteps(long n) {
            if (n < 0) {
                throw new IllegalArgumentException("max steps must be >= 0, got " + n);
            }
            this.maxSteps = n;
            return this;
        }

        /** The seed of the shard plan (which examples each step sees). */
        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** Classification: the number of classes (accuracy and confusion matrices). */
        public Builder numClasses(int n) {
            this.numClasses = positive(n, "numClasses");
            return this;
        }

        /** Local SGD: average the optimizer state too (default), or start each round with a fresh one. */
        public Builder averageOptimizerState(boolean on) {
            this.averageOptimizerState = on;
            return this;
        }

        /** Compute threads per task on the executors (default: leave the executor's setting). */
        public Builder kernelThreads(int n) {
            this.kernelThreads = positive(n, "kernel threads");
            return this;
        }

        /** A learning-rate schedule of the driver's optimizer, stepped once per optimizer step. */
        public Builder scheduler(Function<Optimizer, LRScheduler> s) {
            this.scheduler = s;
            return this;
        }

        /** Gradient-flow monitor and doctor on the driver (default: on, every 10 steps). */
        public Builder diagnostics(Monitor.Options options) {
            this.diagnostics = options;
            return this;
        }

        public Builder diagnostics(boolean on) {
            this.diagnostics = on ? Monitor.Options.DEFAULT : null;
            return this;
        }

        /** Write steps, epochs, gradient records and diagnoses to this run's {@code metrics.jsonl}. */
        public Builder run(RunFolder r) {
            this.run = r;
            return this;
        }

        /** Print progress to {@code out} every {@code every} steps and at each epoch's end (null: quiet). */
        public Builder log(PrintStream out, int every) {
            this.log = out;
            this.logEvery = every;
            return this;
        }

        /** Start from this model (e.g. loaded weights) instead of a new one from the factory. */
        public Builder initialModel(Module m) {
            this.initialModel = m;
            return this;
        }

        public SparkTrainer build() {
            return new SparkTrainer(this);
        }

        private static int positive(int n, String what) {
            if (n < 1) {
                throw new IllegalArgumentException(what + " must be >= 1, got " + n);
            }
            return n;
        }
    }
}
