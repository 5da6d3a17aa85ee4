package dev.backprop.train;

import dev.backprop.autograd.GradMode;
import dev.backprop.diagnostics.Diagnosis;
import dev.backprop.diagnostics.Doctor;
import dev.backprop.diagnostics.Monitor;
import dev.backprop.diagnostics.StepStats;
import dev.backprop.data.Batch;
import dev.backprop.data.DataLoader;
import dev.backprop.data.DataValidation;
import dev.backprop.io.AtomicFiles;
import dev.backprop.nn.Module;
import dev.backprop.optim.Clip;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.ReduceLROnPlateau;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The training loop: forward, loss, backward, (clip), optimizer step, schedule, repeated over the
 * batches of a {@link DataLoader}, with validation, listeners and checkpoints.
 *
 * <pre>{@code
 * Trainer trainer = Trainer.builder(model, new Adam(model.parameters(), 1e-3), F::crossEntropy)
 *         .epochs(10).numClasses(10).listener(new ProgressBar()).build();
 * History h = trainer.fit(trainLoader, validationLoader);
 * Evaluation test = trainer.evaluate(testLoader);
 * }</pre>
 *
 * <p>Deterministic: with the same seed, data and thread count the weights are the same bit for
 * bit; {@link #resume(Path)} restores a checkpoint (model, optimizer, schedule, step, data-loader
 * position, random-generator state) so that a stopped and resumed run ends where an uninterrupted
 * one would.
 *
 * <p>Watched by default: a gradient-flow {@link Monitor} measures gradient and weight norms,
 * update ratios, non-finite gradients and dead ReLUs every 10 steps (see
 * {@link Builder#diagnostics(Monitor.Options)}), and a {@link Doctor} turns them and the validation
 * history into {@link Diagnosis diagnoses}, logged once each as warnings, passed to the listeners
 * and kept in {@link #diagnoses()}.
 */
public final class Trainer {
    /** With diagnostics on, the global gradient norm is measured at least every this many steps. */
    static final int GRAD_NORM_EVERY = 10;

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Trainer.class);

    /** The loss of a batch: model output and targets to a scalar. */
    @FunctionalInterface
    public interface Loss {
        Tensor compute(Tensor output, Tensor target);
    }

    private final Module model;
    private final Optimizer optimizer;
    private final Loss loss;
    private final LRScheduler scheduler;
    private final ReduceLROnPlateau plateau;
    private final int epochs;
    private final long maxSteps;
    private final double clipNorm;
    private final double clipValue;
    private final int accumulate;
    private final int validateEverySteps;
    private final Integer numClasses;
    private final Path checkpointDir;
    private final int checkpointEverySteps;
    private final String monitor;
    private final List<TrainingListener> listeners;
    private final Monitor gradMonitor;
    private final Doctor doctor;

    private long step;
    private String stopReason;
    private DataLoader.Position resumePosition;
    private double epochLossSum;
    private long epochLossCount;
    private long epochCorrect;
    private long epochExamples;
    private double bestMonitored = Double.NaN;
    private long lastValidatedStep = -1;
    private boolean traced;
    private String nonFiniteTrace;
    private final boolean stopOnNonFinite;
    private final boolean validateData;

    private Trainer(Builder b) {
        this.model = b.model;
        this.optimizer = b.optimizer;
        this.loss = b.loss;
        this.scheduler = b.scheduler;
        this.plateau = b.plateau;
        this.epochs = b.epochs;
        this.maxSteps = b.maxSteps;
        this.clipNorm = b.clipNorm;
        this.clipValue = b.clipValue;
        this.accumulate = b.accumulate;
        this.validateEverySteps = b.validateEverySteps;
        this.numClasses = b.numClasses;
        this.checkpointDir = b.checkpointDir;
        this.checkpointEverySteps = b.checkpointEverySteps;
        this.monitor = b.monitor;
        this.traced = !b.traceNonFinite; // off: as if the trace had already been taken
        this.stopOnNonFinite = b.stopOnNonFinite;
        this.validateData = b.validateData;
        this.listeners = List.copyOf(b.listeners);
        this.gradMonitor = b.diagnostics == null ? null : new Monitor(b.model, b.diagnostics);
        this.doctor = b.diagnostics == null ? null : new Doctor();
    }

    public static Builder builder(Module model, Optimizer optimizer, Loss loss) {
        return new Builder(model, optimizer, loss);
    }

    // ------------------------------------------------------------------ training

    /**
     * Trains until the configured epochs or steps are done or a listener stops it; validates on
     * {@code validation} (may be null) every epoch or every N steps.
     */
    public History fit(DataLoader train, DataLoader validation) {
        try {
            if (gradMonitor == null) {
                return fitLoop(train, validation);
            }
            gradMonitor.attach();
            try {
                return fitLoop(train, validation);
            } finally {
                gradMonitor.detach();
            }
        } catch (OutOfMemoryError e) {
            throw new dev.backprop.tensor.MemoryBudgetException("out of memory at step " + (step + 1) + " (batch size "
                    + train.batchSize() + "; the JVM heap is " + dev.backprop.tensor.MemoryBudget.format(
                            Runtime.getRuntime().maxMemory()) + "): use a smaller batch or model, or a larger -Xmx"
                    + (checkpointDir == null ? "" : "; the last checkpoint in " + checkpointDir + " is intact"), e);
        }
    }

    private History fitLoop(DataLoader train, DataLoader validation) {
        if (validateData) {
            int classes = numClasses == null ? 0 : numClasses;
            DataValidation.check(train.dataset(), "training data", classes);
            if (validation != null) {
                DataValidation.check(validation.dataset(), "validation data", classes);
            }
        }
        MemoryEstimate.checkTraining(model, optimizer, train);
        History history = new History();
        if (resumePosition != null) {
            train.seek(resumePosition);
            resumePosition = null;
        }
        stopReason = null;
        listeners.forEach(l -> l.onTrainStart(this));
        int batches = train.numBatches();
        if (batches == 0) {
            throw new IllegalArgumentException("the training data has no batch (empty data set, or fewer examples "
                    + "than one batch with dropLast)");
        }
        while (stopReason == null) {
            int epoch = train.position().epoch();
            if (epochs > 0 && epoch >= epochs) {
                stopReason = "epochs";
                break;
            }
            if (train.position().batch() == 0) {
                resetEpochSums();
            }
            long epochStart = System.nanoTime();
            long stepStart = System.nanoTime();
            double stepLoss = 0;
            int stepExamples = 0;
            int micro = 0;
            boolean stepNonFinite = false;
            for (Batch batch : train) {
                if (gradMonitor != null && micro == 0) {
                    gradMonitor.arm(step + 1);
                }
                model.train();
                Tensor out = model.forward(batch.inputs());
                Tensor l = loss.compute(out, batch.targets());
                double lv = l.item();
                (accumulate > 1 ? l.div(accumulate) : l).backward();
                if (!Double.isFinite(lv)) {
                    stepNonFinite = true;
                    if (!traced) {
                        traced = true;
                        traceNonFinite(batch);
                    }
                }
                trackTraining(out, batch.targets(), lv, batch.size());
                if (doctor != null) {
                    doctor.recordTrainingLoss(lv);
                }
                stepLoss += lv;
                stepExamples += batch.size();
                micro++;
                boolean boundary = (batch.index() + 1) % accumulate == 0 || batch.index() == batches - 1;
                if (!boundary) {
                    continue;
                }
                // the global gradient norm costs a pass over every gradient: measured when clipping needs
                // it, on monitored steps, every GRAD_NORM_EVERY steps (the metrics log's cadence), and on
                // every step when diagnostics are off; NaN on other steps
                boolean monitored = gradMonitor != null && gradMonitor.armed();
                boolean measure = clipNorm > 0 || gradMonitor == null || monitored
                        || (step + 1) % GRAD_NORM_EVERY == 0;
                // unclipped monitored step: the monitor's pass over the gradients gives the global norm too
                boolean fused = monitored && clipNorm <= 0 && clipValue <= 0;
                double gradNorm = clipNorm > 0 ? Clip.gradNorm(model.parameters(), clipNorm)
                        : fused ? gradMonitor.beforeOptimizerStep() : measure ? gradNorm() : Double.NaN;
                if (measure && !Double.isFinite(gradNorm)) { // a finite loss with NaN/Inf gradients
                    stepNonFinite = true;
                    if (!traced) {
                        traced = true;
                        traceNonFinite(batch);
                    }
                }
                // a diverged step is not applied: the weights stay those of the last finite step
                boolean skipStep = stepNonFinite && stopOnNonFinite;
                if (clipValue > 0) {
                    Clip.gradValue(model.parameters(), clipValue);
                }
                double lr = optimizer.lr();
                if (monitored && !fused) {
                    gradMonitor.beforeOptimizerStep(gradNorm);
                }
                if (!skipStep) {
                    try (GradMode.Scope ignored = GradMode.noGrad()) {
                        optimizer.step();
                    }
                }
                StepStats stats = monitored ? gradMonitor.afterOptimizerStep(step + 1, stepLoss / micro) : null;
                optimizer.zeroGrad();
                if (scheduler != null) {
                    scheduler.step();
                }
                step++;
                StepReport report = new StepReport(step, epoch, batch.index(), batches, stepLoss / micro, lr, gradNorm,
                        stepExamples, (System.nanoTime() - stepStart) / 1e9);
                listeners.forEach(li -> li.onStep(this, report));
                if (doctor != null) {
                    report(doctor.observeLoss(step, report.loss()));
                }
                if (stats != null) {
                    listeners.forEach(li -> li.onDiagnostics(this, stats));
                    report(doctor.observe(stats));
                }
                stepLoss = 0;
                stepExamples = 0;
                micro = 0;
                if (skipStep) {
                    stopDiverged(report);
                    break;
                }
                stepNonFinite = false;
                if (validateEverySteps > 0 && step % validateEverySteps == 0 && validation != null) {
                    validate(validation);
                    lastValidatedStep = step;
                }
                if (checkpointEverySteps > 0 && step % checkpointEverySteps == 0) {
                    saveCheckpoint("checkpoint-last.safetensors", train.position());
                }
                if (maxSteps > 0 && step >= maxSteps) {
                    stopReason = "max steps";
                }
                if (stopReason != null) {
                    break;
                }
                stepStart = System.nanoTime();
            }
            boolean epochDone = train.position().epoch() > epoch;
            if (!epochDone || stopReason != null && stopReason.startsWith(DIVERGED)) {
                break; // stopped inside the epoch
            }
            double seconds = (System.nanoTime() - epochStart) / 1e9;
            Evaluation val = validation != null && validateEverySteps == 0 ? validate(validation) : null;
            EpochReport report = new EpochReport(epoch, epochLossSum / Math.max(1, epochLossCount),
                    epochExamples == 0 || numClasses == null ? Double.NaN : (double) epochCorrect / epochExamples,
                    val, seconds);
            history.add(report);
            resetEpochSums();
            if (checkpointDir != null) {
                saveCheckpoint("checkpoint-last.safetensors", train.position());
                if (val != null && improved(val)) {
                    saveCheckpoint("checkpoint-best.safetensors", train.position());
                }
            }
            listeners.forEach(li -> li.onEpochEnd(this, report));
        }
        if (validateEverySteps > 0 && validation != null && step > 0 && lastValidatedStep != step) {
            validate(validation); // the final model is always validated
            lastValidatedStep = step;
        }
        history.steps(step);
        history.stopReason(stopReason == null ? "epochs" : stopReason);
        listeners.forEach(l -> l.onTrainEnd(this, history));
        return history;
    }

    /** The start of {@link History#stopReason()} when training stopped on a non-finite loss or gradient. */
    public static final String DIVERGED = "diverged";

    /**
     * Stops on a non-finite loss or gradient norm: the step was not applied, no checkpoint is
     * written (the last one on disk is from a finite step), and the doctor's non-finite diagnosis
     * (with the anomaly-mode trace of the op, layer and source line) goes to the log and listeners.
     */
    private void stopDiverged(StepReport report) {
        stopReason = DIVERGED + ": non-finite " + (Double.isFinite(report.loss()) ? "gradient norm ("
                + report.gradNorm() + ")" : "loss (" + report.loss() + ")") + " at step " + step;
        if (doctor != null) {
            report(doctor.observeDivergence(step, report.loss(), report.gradNorm()));
        }
        LOG.error("training stopped at step {}: {}; the weights are those of step {}{}", step, stopReason, step - 1,
                checkpointDir == null ? "" : "; the last checkpoint in " + checkpointDir + " is from a finite step");
    }

    private Evaluation validate(DataLoader validation) {
        Evaluation val = evaluate(validation);
        if (plateau != null) {
            plateau.step(val.loss());
        }
        listeners.forEach(l -> l.onValidation(this, val));
        if (doctor != null) {
            report(doctor.observeValidation(step, val.loss()));
        }
        return val;
    }

    private void report(List<Diagnosis> found) {
        for (Diagnosis d : found) {
            LOG.warn("{}", d);
            listeners.forEach(l -> l.onDiagnosis(this, d));
        }
    }

    private boolean improved(Evaluation val) {
        double v = monitor.equals("val_accuracy") ? -val.accuracy() : val.loss();
        if (Double.isNaN(bestMonitored) || v < bestMonitored) {
            bestMonitored = v;
            return true;
        }
        return false;
    }

    private void trackTraining(Tensor out, Tensor targets, double lossValue, int n) {
        epochLossSum += lossValue;
        epochLossCount++;
        if (numClasses != null && targets.dtype() == DType.INT64 && out.dim() == 2) {
            long[] pred = out.detach().argmax(1, false).toLongArray();
            long[] t = targets.toLongArray();
            for (int i = 0; i < pred.length; i++) {
                epochCorrect += pred[i] == t[i] ? 1 : 0;
            }
            epochExamples += n;
        }
    }

    private void resetEpochSums() {
        epochLossSum = 0;
        epochLossCount = 0;
        epochCorrect = 0;
        epochExamples = 0;
    }

    private double gradNorm() {
        return Clip.totalNorm(model.parameters());
    }

    /**
     * The first non-finite loss or gradient of the run: the batch runs again, forward and backward,
     * in anomaly mode, which stops at the first op that makes a NaN or infinity and names it, its
     * layer and the user's source line. The gradients and the random generator are put back, so the
     * run goes on exactly as without the trace; the finding goes to the log and into the doctor's
     * non-finite diagnosis ({@link #nonFiniteTrace()}).
     */
    private void traceNonFinite(Batch batch) {
        List<Tensor> params = model.parameters();
        List<Tensor> grads = new ArrayList<>(params.size());
        params.forEach(p -> grads.add(p.grad()));
        long[] rng = dev.backprop.tensor.Generator.defaultGenerator().state();
        String trace = null;
        try (GradMode.Scope ignored = dev.backprop.autograd.Anomaly.enable()) {
            params.forEach(Tensor::zeroGrad);
            loss.compute(model.forward(batch.inputs()), batch.targets()).backward();
        } catch (dev.backprop.autograd.NonFiniteValueException e) {
            trace = e.getMessage();
        } finally {
            for (int i = 0; i < params.size(); i++) {
                params.get(i).setGrad(grads.get(i));
            }
            dev.backprop.tensor.Generator.defaultGenerator().setState(rng);
        }
        if (trace == null) {
            trace = "running the batch again in anomaly mode did not reproduce it (randomness in the model or the "
                    + "data); wrap a step in try (var a = Anomaly.enable()) { ... } to find it";
        }
        nonFiniteTrace = trace;
        LOG.error("first non-finite value at step {}: {}", step + 1, trace);
        if (doctor != null) {
            doctor.noteNonFiniteTrace(trace);
        }
    }

    /**
     * Where the first non-finite loss or gradient of this run came from (op, layer, source line),
     * or null if there was none.
     */
    public String nonFiniteTrace() {
        return nonFiniteTrace;
    }

    /** Asks the loop to stop after the current step (listeners call this, e.g. early stopping). */
    public void requestStop(String reason) {
        this.stopReason = Objects.requireNonNull(reason);
    }

    // ------------------------------------------------------------------ evaluation and prediction

    /** Mean loss and, with {@code numClasses}, the confusion matrix over every batch of {@code loader}'s next epoch. */
    public Evaluation evaluate(DataLoader loader) {
        boolean wasTraining = model.isTraining();
        model.eval();
        ConfusionMatrix cm = numClasses == null ? null : new ConfusionMatrix(numClasses);
        double lossSum = 0;
        long n = 0;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (Batch b : loader.epoch(0)) {
                Tensor out = model.forward(b.inputs());
                lossSum += loss.compute(out, b.targets()).item() * b.size();
                n += b.size();
                if (cm != null) {
                    cm.add(out.dim() == 2 ? out : out.reshape(-1, numClasses), b.targets().reshape(-1));
                }
            }
        } finally {
            model.train(wasTraining);
        }
        return new Evaluation(n == 0 ? Double.NaN : lossSum / n, n, cm);
    }

    /** The model's output for {@code inputs}: a forward pass in eval mode, recording no graph. */
    public Tensor predict(Tensor inputs) {
        boolean wasTraining = model.isTraining();
        model.eval();
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return model.forward(inputs);
        } finally {
            model.train(wasTraining);
        }
    }

    // ------------------------------------------------------------------ checkpoints

    private static boolean allFinite(Tensor p) {
        if (p.dtype() != DType.FLOAT32) {
            return true;
        }
        float[] a = p.isContiguous() ? p.floatStorage() : p.toFloatArray();
        int from = p.isContiguous() ? p.offset() : 0;
        for (int i = from, end = from + p.numel(); i < end; i++) {
            if (!Float.isFinite(a[i])) {
                return false;
            }
        }
        return true;
    }

    /**
     * Writes a checkpoint of everything needed to continue from {@code position} of the training
     * data (atomically, with a checksum).
     *
     * @throws IllegalStateException if a weight is NaN or infinite: a diverged model is not
     *     written over the last good checkpoint
     */
    public void saveCheckpoint(Path file, DataLoader.Position position) throws IOException {
        for (Tensor p : model.parameters()) {
            if (!allFinite(p)) {
                throw new IllegalStateException("not writing the checkpoint " + file + ": the model's weights hold NaN "
                        + "or infinity (training diverged); the previous checkpoint is kept");
            }
        }
        Map<String, String> state = new LinkedHashMap<>();
        state.put("step", Long.toString(step));
        state.put("epoch", Integer.toString(position.epoch()));
        state.put("batch", Integer.toString(position.batch()));
        long[] rng = Generator.defaultGenerator().state();
        state.put("rng.default", rng[0] + "," + rng[1] + "," + rng[2] + "," + rng[3]);
        state.put("epoch_loss_sum", Double.toString(epochLossSum));
        state.put("epoch_loss_count", Long.toString(epochLossCount));
        state.put("epoch_correct", Long.toString(epochCorrect));
        state.put("epoch_examples", Long.toString(epochExamples));
        state.put("best_monitored", Double.toString(bestMonitored));
        if (plateau != null) {
            plateau.state().forEach((k, v) -> state.put("plateau." + k, v));
        }
        Checkpoint.save(file, model, optimizer, scheduler, state);
    }

    private void saveCheckpoint(String name, DataLoader.Position position) {
        if (checkpointDir == null) {
            return;
        }
        try {
            Files.createDirectories(checkpointDir);
            saveCheckpoint(checkpointDir.resolve(name), position);
        } catch (IOException e) {
            throw new UncheckedIOException("could not write the checkpoint " + checkpointDir.resolve(name)
                    + " (the previous checkpoint is intact): " + e + "; free disk space or choose a writable"
                    + " output folder, then resume with --resume " + checkpointDir.resolve(name), e);
        } catch (IllegalStateException e) {
            LOG.error("{}", e.getMessage());
        }
    }

    /**
     * Restores a checkpoint; the next {@link #fit} continues from where it was taken.
     *
     * @throws IllegalArgumentException naming the file if it is not a checkpoint of this model and
     *     optimizer, is corrupt (a checksum mismatch, a missing or malformed trainer entry); the model
     *     is then left unchanged
     * @throws dev.backprop.io.SafeTensorsException naming the file if it is not a valid safetensors file
     * @throws IOException if it cannot be read
     */
    public void resume(Path file) throws IOException {
        // a process killed while writing a checkpoint leaves a hidden temporary file: remove them
        for (String name : new String[] {file.getFileName().toString(), "checkpoint-last.safetensors",
            "checkpoint-best.safetensors"}) {
            AtomicFiles.deleteStaleTemporaries(file.resolveSibling(name));
        }
        ResumeState[] parsed = new ResumeState[1];
        Map<String, String> s = Checkpoint.load(file, model, optimizer, scheduler,
                state -> parsed[0] = ResumeState.parse(state, plateau));
        ResumeState r = parsed[0];
        step = r.step();
        resumePosition = r.position();
        Generator.defaultGenerator().setState(r.rng());
        epochLossSum = r.epochLossSum();
        epochLossCount = r.epochLossCount();
        epochCorrect = r.epochCorrect();
        epochExamples = r.epochExamples();
        bestMonitored = r.bestMonitored();
        if (plateau != null) {
            try {
                plateau.loadState(r.plateau());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
            }
        }
        assert s != null;
    }

    /** The trainer's entries of a checkpoint, parsed and checked before anything is restored. */
    private record ResumeState(long step, DataLoader.Position position, long[] rng, double epochLossSum,
            long epochLossCount, long epochCorrect, long epochExamples, double bestMonitored,
            Map<String, String> plateau) {
        static ResumeState parse(Map<String, String> s, ReduceLROnPlateau plateau) {
            long step = nonNegative(s, "step");
            long epoch = nonNegative(s, "epoch");
            long batch = nonNegative(s, "batch");
            if (epoch > Integer.MAX_VALUE || batch > Integer.MAX_VALUE) {
                throw new IllegalArgumentException("trainer entries epoch " + epoch + " and batch " + batch
                        + " are out of range");
            }
            String[] parts = require(s, "rng.default").split(",", -1);
            if (parts.length != 4) {
                throw new IllegalArgumentException("trainer entry rng.default must be four numbers separated by "
                        + "commas, found '" + s.get("rng.default") + "'");
            }
            long[] rng = new long[4];
            for (int i = 0; i < 4; i++) {
                rng[i] = parseLong("rng.default", parts[i]);
            }
            Map<String, String> p = new LinkedHashMap<>();
            s.forEach((k, v) -> {
                if (k.startsWith("plateau.")) {
                    p.put(k.substring(8), v);
                }
            });
            return new ResumeState(step, new DataLoader.Position((int) epoch, (int) batch), rng,
                    parseDouble(s, "epoch_loss_sum"), nonNegative(s, "epoch_loss_count"),
                    nonNegative(s, "epoch_correct"), nonNegative(s, "epoch_examples"),
                    parseDouble(s, "best_monitored"), p);
        }

        private static String require(Map<String, String> s, String key) {
            String v = s.get(key);
            if (v == null) {
                throw new IllegalArgumentException("the checkpoint has no trainer entry '" + key
                        + "' (written by another program, or damaged)");
            }
            return v;
        }

        private static long parseLong(String key, String v) {
            try {
                return Long.parseLong(v.strip());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("trainer entry '" + key + "' is not a whole number: '" + v + "'");
            }
        }

        private static long nonNegative(Map<String, String> s, String key) {
            long v = parseLong(key, require(s, key));
            if (v < 0) {
                throw new IllegalArgumentException("trainer entry '" + key + "' is negative: " + v);
            }
            return v;
        }

        private static double parseDouble(Map<String, String> s, String key) {
            String v = require(s, key);
            try {
                return Double.parseDouble(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("trainer entry '" + key + "' is not a number: '" + v + "'");
            }
        }
    }

    // ------------------------------------------------------------------ accessors

    public Module model() {
        return model;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** Optimizer steps taken so far. */
    public long step() {
        return step;
    }

    /** Configured epochs (0 when training is bounded by steps only). */
    public int epochs() {
        return epochs;
    }

    public long maxSteps() {
        return maxSteps;
    }

    /** Validation cadence in steps, or 0 when validation runs once per epoch. */
    public int validateEverySteps() {
        return validateEverySteps;
    }

    /**
     * The gradient-flow monitor's records of the monitored steps (the most recent ones, up to
     * {@link Monitor.Options#history()}), oldest first; empty when diagnostics are off.
     */
    public List<StepStats> diagnostics() {
        return gradMonitor == null ? List.of() : gradMonitor.records();
    }

    /** Whether the gradient-flow monitor and the doctor run (the default). */
    public boolean diagnosticsEnabled() {
        return doctor != null;
    }

    /** The doctor's diagnoses so far, each rule at most once; empty when diagnostics are off. */
    public List<Diagnosis> diagnoses() {
        return doctor == null ? List.of() : doctor.diagnoses();
    }

    /** Builder of a {@link Trainer}; only the model, optimizer and loss are required. */
    public static final class Builder {
        private final Module model;
        private final Optimizer optimizer;
        private final Loss loss;
        private LRScheduler scheduler;
        private ReduceLROnPlateau plateau;
        private int epochs = 1;
        private long maxSteps;
        private double clipNorm;
        private double clipValue;
        private int accumulate = 1;
        private int validateEverySteps;
        private Integer numClasses;
        private Path checkpointDir;
        private int checkpointEverySteps;
        private String monitor = "val_loss";
        private boolean traceNonFinite = true;
        private boolean stopOnNonFinite = true;
        private boolean validateData = true;
        private final List<TrainingListener> listeners = new ArrayList<>();
        private Monitor.Options diagnostics = Monitor.Options.DEFAULT;

        private Builder(Module model, Optimizer optimizer, Loss loss) {
            this.model = Objects.requireNonNull(model, "model");
            this.optimizer = Objects.requireNonNull(optimizer, "optimizer");
            this.loss = Objects.requireNonNull(loss, "loss");
        }

        /** Epochs to train (default 1); 0 with {@link #maxSteps} trains by steps only. */
        public Builder epochs(int n) {
            if (n < 0) {
                throw new IllegalArgumentException("epochs must be >= 0, got " + n);
            }
            this.epochs = n;
            return this;
        }

        /** Stops after this many optimizer steps (0: no limit). */
        public Builder maxSteps(long n) {
            this.maxSteps = n;
            return this;
        }

        /** A schedule stepped after every optimizer step. */
        public Builder scheduler(LRScheduler s) {
            this.scheduler = s;
            return this;
        }

        /** Reduce-on-plateau, stepped with the validation loss after each validation. */
        public Builder reduceOnPlateau(ReduceLROnPlateau p) {
            this.plateau = p;
            return this;
        }

        /** Clips the global gradient norm to {@code maxNorm} before each step. */
        public Builder clipGradNorm(double maxNorm) {
            this.clipNorm = maxNorm;
            return this;
        }

        /** Clamps every gradient element to [-v, v] before each step. */
        public Builder clipGradValue(double v) {
            this.clipValue = v;
            return this;
        }

        /** Accumulates gradients over {@code k} micro-batches per optimizer step (the loss is divided by k). */
        public Builder accumulateGradients(int k) {
            if (k < 1) {
                throw new IllegalArgumentException("gradient accumulation needs k >= 1, got " + k);
            }
            this.accumulate = k;
            return this;
        }

        /**
         * Validates every N steps instead of every epoch, and after the last step when it is not a
         * multiple of N (so the final model is always validated).
         */
        public Builder validateEverySteps(int n) {
            this.validateEverySteps = n;
            return this;
        }

        /** Classification with this many classes: accuracy and confusion matrices are computed. */
        public Builder numClasses(int n) {
            this.numClasses = n;
            return this;
        }

        /** Writes checkpoint-last (every epoch, or every N steps) and checkpoint-best into {@code dir}. */
        public Builder checkpoints(Path dir, int everySteps) {
            this.checkpointDir = dir;
            this.checkpointEverySteps = everySteps;
            return this;
        }

        /** The validation metric that picks the best checkpoint: "val_loss" (default) or "val_accuracy". */
        public Builder monitor(String metric) {
            if (!metric.equals("val_loss") && !metric.equals("val_accuracy")) {
                throw new IllegalArgumentException("monitor must be val_loss or val_accuracy, got " + metric);
            }
            this.monitor = metric;
            return this;
        }

        /**
         * The gradient-flow monitor and doctor: on by default ({@link Monitor.Options#DEFAULT}, every
         * 10 steps and the first); these options change the cadence and the history kept.
         */
        public Builder diagnostics(Monitor.Options options) {
            this.diagnostics = Objects.requireNonNull(options, "options");
            return this;
        }

        /** Turns the gradient-flow monitor and the doctor on (with the default options) or off. */
        public Builder diagnostics(boolean on) {
            this.diagnostics = on ? Monitor.Options.DEFAULT : null;
            return this;
        }

        /**
         * Whether the first non-finite loss or gradient norm is traced to its op, layer and source
         * line by running that batch again in anomaly mode (default: on; it costs one extra forward
         * and backward, once per run).
         */
        public Builder traceNonFinite(boolean on) {
            this.traceNonFinite = on;
            return this;
        }

        /**
         * Whether training stops at the first step whose loss or global gradient norm is NaN or
         * infinite (default: on). The step is then not applied, no checkpoint is written after it,
         * the doctor's non-finite diagnosis is reported, and {@link History#stopReason()} starts
         * with {@value Trainer#DIVERGED}. Off: the run goes on, applying whatever the optimizer makes
         * of the non-finite gradients.
         */
        public Builder stopOnNonFinite(boolean on) {
            this.stopOnNonFinite = on;
            return this;
        }

        /**
         * Whether {@link #fit} checks the data first ({@link DataValidation}: empty splits, NaN or
         * infinite features and targets, labels outside {@code [0, numClasses)}); default on.
         */
        public Builder validateData(boolean on) {
            this.validateData = on;
            return this;
        }

        public Builder listener(TrainingListener l) {
            listeners.add(Objects.requireNonNull(l));
            return this;
        }

        public Trainer build() {
            if (epochs == 0 && maxSteps == 0) {
                throw new IllegalArgumentException("set epochs(n) or maxSteps(n): training would never stop");
            }
            return new Trainer(this);
        }
    }
}
