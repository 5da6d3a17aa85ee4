package dev.backprop.diagnostics;

import dev.backprop.diagnostics.Diagnosis.Severity;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Rules over the {@link Monitor}'s records and the validation history that turn numbers into
 * {@link Diagnosis diagnoses}. Each rule looks at a window of several monitored steps (or
 * validations) to avoid noise, and is reported once per run: {@link #observe(StepStats)} and
 * {@link #observeValidation(long, double)} return only the diagnoses that are new.
 *
 * <p>The rules and their thresholds (public constants):
 * <ul>
 *   <li>{@value #VANISHING}: the first trainable layer's gradient norm is below
 *       {@link #VANISHING_RATIO} times the last one's for {@link #VANISHING_WINDOW} monitored steps in a row;
 *   <li>{@value #NON_FINITE}: the loss, the global gradient norm or a gradient value is NaN or infinite;
 *   <li>{@value #EXPLODING}: the global gradient norm exceeds {@link #EXPLODING_GRAD_FACTOR} times,
 *       or the loss {@link #DIVERGING_LOSS_FACTOR} times, its value at the start of training (median
 *       of the first {@link #BASELINE_STEPS} monitored steps), for {@link #EXPLODING_WINDOW} monitored steps in a row;
 *   <li>{@value #EXPLODING} also from the loss of every step ({@link #observeLoss}): above
 *       {@link #DIVERGING_LOSS_FACTOR} times its starting value for {@link #EXPLODING_WINDOW} steps in a row,
 *       or NaN/infinite right after rising above its starting value (divergence rather than bad data);
 *   <li>{@value #LOSS_SPIKE}: a step's loss above {@link #SPIKE_FACTOR} times the median of the
 *       previous {@link #SPIKE_WINDOW} steps and above the starting loss, after which training recovers
 *       (the loss falls back below the spike's threshold);
 *   <li>{@value #DEAD_RELU}: more than {@link #DEAD_FRACTION} of a ReLU's units are dead for
 *       {@link #DEAD_WINDOW} monitored steps in a row;
 *   <li>{@value #FROZEN}: a parameter requires a gradient but none (or an all-zero one) reaches it
 *       for {@link #FROZEN_WINDOW} monitored steps in a row;
 *   <li>{@value #LR_TOO_LOW} / {@value #LR_TOO_HIGH}: the median over {@link #LR_WINDOW} monitored
 *       steps of the median update-to-weight ratio of the layers is below {@link #LR_LOW_RATIO} or
 *       above {@link #LR_HIGH_RATIO} (about 1e-3 is healthy);
 *   <li>{@value #OVERFITTING}: the validation loss has not improved for {@link #OVERFIT_PATIENCE}
 *       validations, is more than {@link #OVERFIT_MIN_RISE} (relative) above its best, while the
 *       training loss fell below its value at the best validation.
 * </ul>
 */
public final class Doctor {
    /** Rule id: early layers' gradients orders of magnitude below the last layers'. */
    public static final String VANISHING = "vanishing-gradients";
    /** Rule id: growing gradient norm or loss. */
    public static final String EXPLODING = "exploding-gradients";
    /** Rule id: single steps whose loss jumps far above the recent ones. */
    public static final String LOSS_SPIKE = "loss-spike";
    /** Rule id: NaN or infinity in the loss or the gradients. */
    public static final String NON_FINITE = "non-finite";
    /** Rule id: ReLU units that output zero for every example. */
    public static final String DEAD_RELU = "dead-relu";
    /** Rule id: trainable parameters that no gradient reaches. */
    public static final String FROZEN = "frozen-layer";
    /** Rule id: updates tiny compared with the weights. */
    public static final String LR_TOO_LOW = "lr-too-low";
    /** Rule id: updates large compared with the weights. */
    public static final String LR_TOO_HIGH = "lr-too-high";
    /** Rule id: validation loss rising while training loss falls. */
    public static final String OVERFITTING = "overfitting";

    public static final double VANISHING_RATIO = 1e-3;
    public static final int VANISHING_WINDOW = 3;
    public static final double EXPLODING_GRAD_FACTOR = 100;
    public static final double DIVERGING_LOSS_FACTOR = 10;
    public static final int EXPLODING_WINDOW = 2;
    public static final int BASELINE_STEPS = 3;
    public static final double SPIKE_FACTOR = 5;
    public static final int SPIKE_WINDOW = 20;
    public static final double DEAD_FRACTION = 0.5;
    public static final int DEAD_WINDOW = 3;
    public static final int FROZEN_WINDOW = 3;
    public static final double LR_LOW_RATIO = 1e-6;
    public static final double LR_HIGH_RATIO = 1e-1;
    public static final int LR_WINDOW = 5;
    public static final int OVERFIT_PATIENCE = 3;
    public static final double OVERFIT_MIN_RISE = 0.02;

    private final Set<String> raised = new HashSet<>();
    private final List<Diagnosis> diagnoses = new ArrayList<>();

    private int vanishingRun;
    private final List<Double> baselineGrad = new ArrayList<>();
    private final List<Double> baselineLoss = new ArrayList<>();
    private int explodingRun;
    private final List<Double> startLoss = new ArrayList<>();
    private final ArrayDeque<Double> recentLoss = new ArrayDeque<>();
    private int divergingRun;
    private double lastFiniteLoss = Double.NaN;
    private long spikes;
    private long pendingSpikeStep = -1;
    private double pendingSpikeLoss;
    private double pendingSpikeMedian;
    private final Map<String, Integer> deadRun = new HashMap<>();
    private final Map<String, Integer> frozenRun = new HashMap<>();
    private final ArrayDeque<Double> ratios = new ArrayDeque<>();

    private double trainLossSum;
    private long trainLossCount;
    private int validations;
    private double bestVal = Double.NaN;
    private int bestValidation;
    private double trainAtBest = Double.NaN;

    private String nonFiniteTrace;

    /** Adds one training (micro-batch) loss to the mean reported at the next validation. */
    public void recordTrainingLoss(double loss) {
        if (Double.isFinite(loss)) {
            trainLossSum += loss;
            trainLossCount++;
        }
    }

    /** Every diagnosis so far, in the order found. */
    public List<Diagnosis> diagnoses() {
        return List.copyOf(diagnoses);
    }

    /** Applies the step rules to one monitored step; returns the diagnoses that are new. */
    public List<Diagnosis> observe(StepStats s) {
        List<Diagnosis> out = new ArrayList<>();
        nonFinite(s, out);
        exploding(s, out);
        vanishing(s, out);
        dead(s, out);
        frozen(s, out);
        learningRate(s, out);
        return out;
    }

    /**
     * Applies the loss rules to the training loss of optimizer step {@code step} (every step, not
     * only monitored ones: it costs a few comparisons): divergence ({@value #EXPLODING}) and loss
     * spikes ({@value #LOSS_SPIKE}). Returns the diagnoses that are new.
     */
    public List<Diagnosis> observeLoss(long step, double loss) {
        List<Diagnosis> out = new ArrayList<>();
        if (!Double.isFinite(loss)) {
            double l0 = median(startLoss);
            if (!Double.isNaN(lastFiniteLoss) && lastFiniteLoss > l0) {
                raise(out, diverged(step, String.format(Locale.ROOT, "Divergence at step %d: the loss rose from %s "
                        + "at the start to %s, then became %s.", step, num(l0), num(lastFiniteLoss), num(loss))));
            }
            lastFiniteLoss = Double.NaN;
            return out;
        }
        if (startLoss.size() < BASELINE_STEPS) {
            startLoss.add(loss);
        }
        double l0 = median(startLoss);
        lastFiniteLoss = loss;
        divergingRun = l0 > 0 && loss > DIVERGING_LOSS_FACTOR * l0 ? divergingRun + 1 : 0;
        if (divergingRun >= EXPLODING_WINDOW) {
            raise(out, diverged(step, String.format(Locale.ROOT, "Divergence at step %d: the loss is %s, more than "
                    + "%s× its starting %s, for %d steps in a row.", step, num(loss), num(DIVERGING_LOSS_FACTOR),
                    num(l0), divergingRun)));
        }
        if (recentLoss.size() >= SPIKE_WINDOW) {
            // the window's median only when the loss is above its start: most steps cost two comparisons
            double m = pendingSpikeStep < 0 && loss > l0 ? median(new ArrayList<>(recentLoss)) : Double.NaN;
            if (pendingSpikeStep >= 0 && loss < SPIKE_FACTOR * pendingSpikeMedian) {
                spikes++; // the loss came back down: a spike, not a divergence
                raise(out, new Diagnosis(LOSS_SPIKE, Severity.WARNING, pendingSpikeStep, List.of(),
                        String.format(Locale.ROOT, "Loss spike at step %d: the loss jumped to %s, %s× the median %s "
                                + "of the previous %d steps and above the starting loss %s, then recovered.",
                                pendingSpikeStep, num(pendingSpikeLoss), num(pendingSpikeLoss / pendingSpikeMedian),
                                num(pendingSpikeMedian), SPIKE_WINDOW, num(l0)),
                        "clip gradients (Trainer.Builder.clipGradNorm(1.0)), lower the learning rate or add a "
                                + "warm-up; look for outliers or mislabelled examples in the batch; with Adam, a "
                                + "larger eps damps steps on rarely-seen parameters."));
                pendingSpikeStep = -1;
            } else if (m > 0 && loss > SPIKE_FACTOR * m) {
                pendingSpikeStep = step;
                pendingSpikeLoss = loss;
                pendingSpikeMedian = m;
            } else if (pendingSpikeStep >= 0 && step - pendingSpikeStep > SPIKE_WINDOW) {
                pendingSpikeStep = -1; // it stayed up: the divergence rule's business
            }
        }
        if (pendingSpikeStep != step) { // a spike does not enter the window it is measured against
            recentLoss.addLast(loss);
            while (recentLoss.size() > SPIKE_WINDOW) {
                recentLoss.removeFirst();
            }
        }
        return out;
    }

    /** How many loss spikes {@link #observeLoss} has seen (each one recovered from). */
    public long lossSpikes() {
        return spikes;
    }

    private static Diagnosis diverged(long step, String message) {
        return new Diagnosis(EXPLODING, Severity.ERROR, step, List.of(), message,
                "lower the learning rate (try 10× lower), clip gradients (Trainer.Builder.clipGradNorm(1.0)), "
                        + "add a warm-up; normalisation layers help deep models.");
    }

    /**
     * Applies the overfitting rule after a validation: {@code valLoss} against the mean training
     * loss recorded since the previous validation. Returns the diagnoses that are new.
     */
    public List<Diagnosis> observeValidation(long step, double valLoss) {
        List<Diagnosis> out = new ArrayList<>();
        double train = trainLossCount > 0 ? trainLossSum / trainLossCount : Double.NaN;
        trainLossSum = 0;
        trainLossCount = 0;
        validations++;
        if (!Double.isFinite(valLoss)) {
            return out;
        }
        if (Double.isNaN(bestVal) || valLoss < bestVal) {
            bestVal = valLoss;
            bestValidation = validations;
            trainAtBest = train;
            return out;
        }
        int since = validations - bestValidation;
        if (since >= OVERFIT_PATIENCE && valLoss > bestVal + Math.abs(bestVal) * OVERFIT_MIN_RISE
                && train < trainAtBest) {
            raise(out, new Diagnosis(OVERFITTING, Severity.WARNING, step, List.of(),
                    String.format(Locale.ROOT, "Overfitting: the validation loss rose from its best %s (validation %d) to "
                            + "%s over %d validations while the training loss fell from %s to %s.",
                            num(bestVal), bestValidation, num(valLoss), since, num(trainAtBest), num(train)),
                    "stop earlier (EarlyStopping(\"val_loss\", patience, 0, true) keeps the best weights), "
                            + "regularise (weight decay, dropout, data augmentation), use a smaller model or more data."));
        }
        return out;
    }

    // ------------------------------------------------------------------ rules

    /**
     * Where the first non-finite value came from, as anomaly mode reported it when the trainer ran
     * the failing batch again (the op, the layer path and the user's source line); the
     * {@value #NON_FINITE} diagnosis quotes it.
     */
    public void noteNonFiniteTrace(String trace) {
        if (nonFiniteTrace == null) {
            nonFiniteTrace = trace;
        }
    }

    /**
     * Training stopped on a non-finite loss or gradient norm at {@code step}: returns the
     * {@value #NON_FINITE} diagnosis (with the trace, when one was noted), unless the step rules
     * already raised it.
     */
    public List<Diagnosis> observeDivergence(long step, double loss, double gradNorm) {
        List<Diagnosis> out = new ArrayList<>();
        String what = !Double.isFinite(loss) ? "the loss is " + num(loss) : "the global gradient norm is " + num(gradNorm);
        raise(out, new Diagnosis(NON_FINITE, Severity.ERROR, step, List.of(),
                "Non-finite values at step " + step + ": " + what + "; training stopped there (the step was not "
                        + "applied; the last checkpoint is from a finite step)."
                        + (nonFiniteTrace == null ? "" : " First non-finite value: " + nonFiniteTrace),
                "lower the learning rate, clip gradients (Trainer.Builder.clipGradNorm(1.0)), check the inputs "
                        + "for NaN; to find the op that produced the first NaN, run a step inside "
                        + "try (var a = Anomaly.enable()) { ... }: the error names the op, the layer and your source line."));
        return out;
    }

    /** The trace given to {@link #noteNonFiniteTrace}, or null. */
    public String nonFiniteTrace() {
        return nonFiniteTrace;
    }

    private void nonFinite(StepStats s, List<Diagnosis> out) {
        if (Double.isFinite(s.loss()) && !Double.isNaN(s.gradNorm()) && !Double.isInfinite(s.gradNorm())
                && s.nonFiniteFraction() == 0) {
            return;
        }
        List<String> layers = new ArrayList<>();
        s.layers().forEach((path, n) -> {
            if (n.nonFiniteFraction() > 0) {
                layers.add(label(path) + String.format(Locale.ROOT, " (%.1f%%)", 100 * n.nonFiniteFraction()));
            }
        });
        String what = !Double.isFinite(s.loss()) ? "the loss is " + num(s.loss())
                : "the global gradient norm is " + num(s.gradNorm());
        raise(out, new Diagnosis(NON_FINITE, Severity.ERROR, s.step(), nonFiniteLayers(s),
                "Non-finite values at step " + s.step() + ": " + what
                        + (layers.isEmpty() ? "." : "; NaN/Inf gradients in " + String.join(", ", layers) + ".")
                        + (nonFiniteTrace == null ? "" : " First non-finite value: " + nonFiniteTrace),
                "lower the learning rate, clip gradients (Trainer.Builder.clipGradNorm(1.0)), check the inputs "
                        + "for NaN; to find the op that produced the first NaN, run a step inside "
                        + "try (var a = Anomaly.enable()) { ... }: the error names the op, the layer and your source line."));
    }

    private void exploding(StepStats s, List<Diagnosis> out) {
        if (!Double.isFinite(s.gradNorm()) || !Double.isFinite(s.loss())) {
            return; // the non-finite rule speaks
        }
        if (baselineGrad.size() < BASELINE_STEPS) {
            boolean first = baselineGrad.isEmpty();
            baselineGrad.add(s.gradNorm());
            baselineLoss.add(s.loss());
            if (first) {
                return;
            }
        }
        double g0 = median(baselineGrad);
        double l0 = median(baselineLoss);
        boolean gradUp = g0 > 0 && s.gradNorm() > EXPLODING_GRAD_FACTOR * g0;
        boolean lossUp = l0 > 0 && s.loss() > DIVERGING_LOSS_FACTOR * l0;
        explodingRun = gradUp || lossUp ? explodingRun + 1 : 0;
        if (explodingRun >= EXPLODING_WINDOW) {
            raise(out, diverged(s.step(), String.format(Locale.ROOT, "Exploding gradients at step %d: the global "
                    + "gradient norm is %s (%s× its starting %s) and the loss %s (starting %s).", s.step(),
                    num(s.gradNorm()), num(s.gradNorm() / g0), num(g0), num(s.loss()), num(l0))));
        }
    }

    private void vanishing(StepStats s, List<Diagnosis> out) {
        String first = null;
        String last = null;
        for (Map.Entry<String, Norms> e : s.layers().entrySet()) {
            Norms n = e.getValue();
            if (n.trainable() && n.hasGrad() && n.gradNorm() > 0 && Double.isFinite(n.gradNorm())) {
                if (first == null) {
                    first = e.getKey();
                }
                last = e.getKey();
            }
        }
        if (first == null || first.equals(last)) {
            vanishingRun = 0;
            return;
        }
        double gf = s.layers().get(first).gradNorm();
        double gl = s.layers().get(last).gradNorm();
        double ratio = gf / gl;
        vanishingRun = ratio < VANISHING_RATIO ? vanishingRun + 1 : 0;
        if (vanishingRun >= VANISHING_WINDOW) {
            raise(out, new Diagnosis(VANISHING, Severity.ERROR, s.step(), List.of(first, last),
                    String.format(Locale.ROOT, "Vanishing gradients: the gradient norm of the first layer %s is %s, "
                            + "%s× that of the last layer %s (%s), for %d monitored steps: the first layers barely learn.",
                            label(first), num(gf), num(ratio), label(last), num(gl), vanishingRun),
                    "use ReLU/GELU instead of sigmoid/tanh in hidden layers, He (Kaiming) initialisation, "
                            + "normalisation layers (BatchNorm, LayerNorm), residual connections, or a shallower model."));
        }
    }

    private void dead(StepStats s, List<Diagnosis> out) {
        List<String> bad = new ArrayList<>();
        for (Map.Entry<String, Double> e : s.dead().entrySet()) {
            int run = e.getValue() > DEAD_FRACTION ? deadRun.merge(e.getKey(), 1, Integer::sum) : 0;
            if (run == 0) {
                deadRun.remove(e.getKey());
            }
            if (run >= DEAD_WINDOW) {
                bad.add(e.getKey());
            }
        }
        if (!bad.isEmpty()) {
            List<String> parts = new ArrayList<>();
            for (String b : bad) {
                parts.add(String.format(Locale.ROOT, "%s (%.0f%% dead)", b, 100 * s.dead().get(b)));
            }
            raise(out, new Diagnosis(DEAD_RELU, Severity.WARNING, s.step(), bad,
                    "Dead ReLUs: more than " + Math.round(100 * DEAD_FRACTION) + "% of the units output zero for "
                            + "every example of the batch, for " + DEAD_WINDOW + " monitored steps in a row, in "
                            + String.join(", ", parts) + "; no gradient flows through them.",
                    "lower the learning rate, check the initialisation (biases very negative?), use LeakyReLU/GELU, "
                            + "or put a normalisation layer before the ReLU."));
        }
    }

    private void frozen(StepStats s, List<Diagnosis> out) {
        Map<String, List<String>> byLayer = new LinkedHashMap<>();
        for (Map.Entry<String, Norms> e : s.parameters().entrySet()) {
            Norms n = e.getValue();
            boolean none = n.trainable() && (!n.hasGrad() || n.gradNorm() == 0);
            int run = none ? frozenRun.merge(e.getKey(), 1, Integer::sum) : 0;
            if (run == 0) {
                frozenRun.remove(e.getKey());
            }
            if (run >= FROZEN_WINDOW) {
                String p = e.getKey();
                int dot = p.lastIndexOf('.');
                byLayer.computeIfAbsent(dot < 0 ? "" : p.substring(0, dot), k -> new ArrayList<>())
                        .add(dot < 0 ? p : p.substring(dot + 1) + (n.hasGrad() ? " (zero gradient)" : " (no gradient)"));
            }
        }
        if (!byLayer.isEmpty()) {
            List<String> parts = new ArrayList<>();
            byLayer.forEach((layer, ps) -> parts.add(label(layer) + ": " + String.join(", ", ps)));
            raise(out, new Diagnosis(FROZEN, Severity.ERROR, s.step(), new ArrayList<>(byLayer.keySet()),
                    "Frozen or disconnected layers: no gradient reaches " + String.join("; ", parts) + " for "
                            + FROZEN_WINDOW + " monitored steps in a row, although they require gradients.",
                    "check that the layer is used in forward and that its output reaches the loss (no detach(), "
                            + "no noGrad() scope, no integer/argmax step on the path); freeze() it if it is meant "
                            + "to stay fixed; a dead ReLU next to it (all-zero inputs or all-zero output gradients) also gives it a zero gradient."));
        }
    }

    private void learningRate(StepStats s, List<Diagnosis> out) {
        List<Double> layerRatios = new ArrayList<>();
        for (Norms n : s.layers().values()) {
            if (n.trainable() && n.hasGrad() && Double.isFinite(n.updateRatio())) {
                layerRatios.add(n.updateRatio());
            }
        }
        if (layerRatios.isEmpty()) {
            return;
        }
        ratios.addLast(median(layerRatios));
        while (ratios.size() > LR_WINDOW) {
            ratios.removeFirst();
        }
        if (ratios.size() < LR_WINDOW) {
            return;
        }
        double m = median(new ArrayList<>(ratios));
        if (m < LR_LOW_RATIO) {
            raise(out, new Diagnosis(LR_TOO_LOW, Severity.WARNING, s.step(), List.of(),
                    String.format(Locale.ROOT, "Learning rate too low: each step changes the weights by only %s of "
                            + "their norm (median over layers and the last %d monitored steps; about 1e-3 is healthy).",
                            num(m), LR_WINDOW),
                    "raise the learning rate (by 10× to 100×), or run an LR finder sweep."));
        } else if (m > LR_HIGH_RATIO) {
            raise(out, new Diagnosis(LR_TOO_HIGH, Severity.WARNING, s.step(), List.of(),
                    String.format(Locale.ROOT, "Learning rate too high: each step changes the weights by %s of "
                            + "their norm (median over layers and the last %d monitored steps; about 1e-3 is healthy).",
                            num(m), LR_WINDOW),
                    "lower the learning rate (by 10×), add a warm-up, or clip gradients."));
        }
    }

    // ------------------------------------------------------------------ helpers

    private void raise(List<Diagnosis> out, Diagnosis d) {
        if (raised.add(d.rule())) {
            diagnoses.add(d);
            out.add(d);
        }
    }

    private static List<String> nonFiniteLayers(StepStats s) {
        List<String> out = new ArrayList<>();
        s.layers().forEach((path, n) -> {
            if (n.nonFiniteFraction() > 0) {
                out.add(path);
            }
        });
        return out;
    }

    private static String label(String path) {
        return path.isEmpty() ? "(model)" : path;
    }

    private static double median(List<Double> values) {
        double[] v = values.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String num(double v) {
        if (!Double.isFinite(v)) {
            return Double.isNaN(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf";
        }
        double a = Math.abs(v);
        return a != 0 && (a < 1e-3 || a >= 1e4) ? String.format(Locale.ROOT, "%.2e", v)
                : String.format(Locale.ROOT, "%.4g", v);
    }
}
