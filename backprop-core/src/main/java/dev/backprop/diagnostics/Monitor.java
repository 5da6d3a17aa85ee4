package dev.backprop.diagnostics;

import dev.backprop.autograd.HookHandle;
import dev.backprop.kernels.Kernels;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Module;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Gradient-flow monitor: every {@link Options#every()} optimizer steps (and on the first), it
 * measures per parameter and per layer the gradient norm, the weight norm, the update-to-weight
 * ratio and the fraction of non-finite gradient values, the global gradient norm and the loss,
 * and for every {@link Activation.ReLU} the fraction of dead units. The
 * {@link dev.backprop.train.Trainer} runs one by default; the calls below are its protocol:
 *
 * <ol>
 *   <li>{@link #attach()} when training starts (adds forward hooks to the ReLU modules),
 *   <li>{@link #arm(long)} before the forward of the first micro-batch of each step,
 *   <li>{@link #beforeOptimizerStep(double)} after backward and clipping,
 *   <li>{@link #afterOptimizerStep(long, double)} after the optimizer step, which returns the
 *       step's {@link StepStats} (null on steps that are not monitored),
 *   <li>{@link #detach()} when training ends.
 * </ol>
 *
 * <p>Cheap: on steps that are not monitored nothing is done but a flag test; on monitored ones it
 * reads each gradient once and each weight twice (a snapshot into arrays reused from step to step,
 * then the difference after the step), and scans the ReLU outputs of the forward pass.
 */
public final class Monitor {
    /** Elements in one part of a monitor pass: fixed, so that the sums do not depend on the thread count. */
    private static final int PART = 1 << 15;
    /** A thread takes at least this many parts (small models stay on the calling thread). */
    private static final int PARTS_PER_THREAD = 4;

    /**
     * How the monitor runs.
     *
     * @param every monitor every this many optimizer steps (and the first step); >= 1
     * @param history how many {@link StepStats} to keep in memory (the oldest are dropped); >= 1
     */
    public record Options(int every, int history) {
        /** The default: every 10 steps, the last 1000 records kept. */
        public static final Options DEFAULT = new Options(10, 1000);

        public Options {
            if (every < 1) {
                throw new IllegalArgumentException("diagnostics cadence must be >= 1 step, got " + every);
            }
            if (history < 1) {
                throw new IllegalArgumentException("diagnostics history must keep >= 1 record, got " + history);
            }
        }

        /** Monitors every {@code n} steps, keeping the default history. */
        public static Options every(int n) {
            return new Options(n, DEFAULT.history());
        }
    }

    private final Module model;
    private final Options options;
    private final String[] names;
    private final Tensor[] params;
    private final String[] layerOf;
    private final List<String> layerNames = new ArrayList<>();
    private final int[] layerIndex;
    private final float[][] before;
    private final double[] gradSq;
    private final double[] weightSq;
    private final double[] deltaSq; // Σ (w after − w before)² per parameter, on a monitored step
    private final long[] nonFinite;
    private final boolean[] hasGrad;
    // each parameter cut into parts of at most PART elements: part c covers
    // [partStart[c], partStart[c] + partLength[c]) of parameter partParam[c]
    private final int[] partParam;
    private final int[] partStart;
    private final int[] partLength;
    private final double[] partGradSq;
    private final double[] partWeightSq;
    private final double[] partDeltaSq;
    private final float[][] gradData;
    private final int[] gradOffset;
    private final float[][] weightData;
    private final int[] weightOffset;
    private final Map<String, boolean[]> alive = new LinkedHashMap<>();
    private final List<HookHandle> hooks = new ArrayList<>();
    private final ArrayDeque<StepStats> records = new ArrayDeque<>();
    private int[] pendingBuffer = new int[0];
    private boolean armed;
    private boolean measured;
    private double globalGradNorm;

    public Monitor(Module model, Options options) {
        this.model = model;
        this.options = options;
        Map<String, Tensor> named = model.namedParameters();
        int n = named.size();
        names = named.keySet().toArray(new String[0]);
        params = named.values().toArray(new Tensor[0]);
        layerOf = new String[n];
        layerIndex = new int[n];
        Map<String, Integer> layers = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            int dot = names[i].lastIndexOf('.');
            layerOf[i] = dot < 0 ? "" : names[i].substring(0, dot);
            layerIndex[i] = layers.computeIfAbsent(layerOf[i], k -> layers.size());
        }
        layerNames.addAll(layers.keySet());
        before = new float[n][];
        gradSq = new double[n];
        weightSq = new double[n];
        deltaSq = new double[n];
        nonFinite = new long[n];
        hasGrad = new boolean[n];
        gradData = new float[n][];
        gradOffset = new int[n];
        weightData = new float[n][];
        weightOffset = new int[n];
        int parts = 0;
        for (Tensor p : params) {
            parts += Math.max(1, (p.numel() + PART - 1) / PART);
        }
        partParam = new int[parts];
        partStart = new int[parts];
        partLength = new int[parts];
        int c = 0;
        for (int i = 0; i < n; i++) {
            int numel = params[i].numel();
            for (int start = 0; start == 0 || start < numel; start += PART) {
                partParam[c] = i;
                partStart[c] = start;
                partLength[c] = Math.min(PART, numel - start);
                c++;
            }
        }
        partGradSq = new double[parts];
        partWeightSq = new double[parts];
        partDeltaSq = new double[parts];
    }

    public Options options() {
        return options;
    }

    /** Whether optimizer step {@code step} (1 for the first) is monitored. */
    public boolean isMonitored(long step) {
        return step == 1 || step % options.every() == 0;
    }

    /** Adds forward hooks to the model's ReLU modules (dead units); idempotent. */
    public void attach() {
        if (!hooks.isEmpty()) {
            return;
        }
        model.namedModules().forEach((path, m) -> {
            if (m instanceof Activation.ReLU) {
                String label = path.isEmpty() ? m.typeName() : path;
                alive.put(label, new boolean[0]);
                hooks.add(m.registerForwardHook((module, input, output) -> observeActivation(label, output)));
            }
        });
    }

    /** Removes the hooks added by {@link #attach()}. */
    public void detach() {
        hooks.forEach(HookHandle::remove);
        hooks.clear();
        armed = false;
    }

    /**
     * Called before the forward of the first micro-batch of optimizer step {@code step}: if that
     * step is monitored, the ReLU hooks start recording. Returns whether it is monitored.
     */
    public boolean arm(long step) {
        armed = isMonitored(step);
        measured = false;
        if (armed) {
            alive.replaceAll((k, v) -> {
                java.util.Arrays.fill(v, false);
                return v;
            });
        }
        return armed;
    }

    /** Whether the current step is monitored (between {@link #arm} and {@link #afterOptimizerStep}). */
    public boolean armed() {
        return armed;
    }

    private void observeActivation(String label, Tensor out) {
        if (!armed || out.dtype() != DType.FLOAT32 || out.dim() < 1 || out.shape()[0] == 0) {
            return;
        }
        int n = out.shape()[0];
        int units = out.numel() / n;
        boolean[] mask = alive.get(label);
        if (mask.length != units) {
            mask = new boolean[units];
            alive.put(label, mask);
        }
        float[] v;
        int off;
        if (out.isContiguous()) {
            v = out.floatStorage();
            off = out.offset();
        } else {
            v = out.toFloatArray();
            off = 0;
        }
        // only the units not yet seen alive are looked at again: after a few examples few remain,
        // so a healthy layer costs about two passes over one example's units, not a pass per example
        int[] pending = pendingBuffer.length >= units ? pendingBuffer : (pendingBuffer = new int[units]);
        int np = 0;
        for (int u = 0; u < units; u++) {
            if (!mask[u]) {
                pending[np++] = u;
            }
        }
        for (int e = 0; e < n && np > 0; e++) {
            int base = off + e * units;
            int w = 0;
            for (int k = 0; k < np; k++) {
                int u = pending[k];
                if (v[base + u] != 0f) {
                    mask[u] = true;
                } else {
                    pending[w++] = u;
                }
            }
            np = w;
        }
    }

    /**
     * Called after backward (and clipping), right before the optimizer step, on a monitored step:
     * reads the gradients and snapshots the weights. Does nothing on other steps.
     *
     * @param gradNorm the global gradient norm before clipping
     */
    public void beforeOptimizerStep(double gradNorm) {
        if (!armed) {
            return;
        }
        measureBeforeStep();
        globalGradNorm = gradNorm;
    }

    /**
     * As {@link #beforeOptimizerStep(double)}, for a step whose gradients were not clipped: the
     * global gradient norm is taken from the same pass that measures each parameter's gradient
     * (no second pass over the gradients) and returned; NaN on a step that is not monitored.
     */
    public double beforeOptimizerStep() {
        if (!armed) {
            return Double.NaN;
        }
        double total = measureBeforeStep();
        globalGradNorm = Math.sqrt(total);
        return globalGradNorm;
    }

    /**
     * One pass over every gradient (its sum of squares) and every weight (copied to the snapshot
     * with its sum of squares in the same pass), in fixed parts of {@link #PART} elements spread
     * over the kernel threads. Returns Σ of the gradients' squares, as summed.
     */
    private double measureBeforeStep() {
        Kernels k = Kernels.get();
        for (int i = 0; i < params.length; i++) {
            Tensor p = params[i];
            Tensor g = p.grad();
            hasGrad[i] = g != null && g.dtype() == DType.FLOAT32;
            if (hasGrad[i]) {
                gradData[i] = g.isContiguous() ? g.floatStorage() : g.toFloatArray();
                gradOffset[i] = g.isContiguous() ? g.offset() : 0;
            } else {
                gradData[i] = null;
            }
            weightData[i] = p.isContiguous() ? p.floatStorage() : p.toFloatArray();
            weightOffset[i] = p.isContiguous() ? p.offset() : 0;
            if (before[i] == null || before[i].length != p.numel()) {
                before[i] = new float[p.numel()];
            }
        }
        Kernels.parallelFor(partParam.length, PARTS_PER_THREAD, (from, to) -> {
            for (int c = from; c < to; c++) {
                int i = partParam[c];
                int start = partStart[c];
                int len = partLength[c];
                partGradSq[c] = gradData[i] == null ? 0 : k.sumOfSquares(gradData[i], gradOffset[i] + start, len);
                partWeightSq[c] = k.copySumOfSquares(weightData[i], weightOffset[i] + start, before[i], start, len);
            }
        });
        java.util.Arrays.fill(gradSq, 0);
        java.util.Arrays.fill(weightSq, 0);
        for (int c = 0; c < partParam.length; c++) { // parts in order: the same sums on any thread count
            gradSq[partParam[c]] += partGradSq[c];
            weightSq[partParam[c]] += partWeightSq[c];
        }
        double total = 0;
        for (int i = 0; i < params.length; i++) {
            total += gradSq[i];
            long bad = 0;
            if (!Double.isFinite(gradSq[i]) && gradData[i] != null) { // rare: count the culprits
                float[] v = gradData[i];
                for (int q = gradOffset[i], end = q + params[i].numel(); q < end; q++) {
                    bad += Float.isFinite(v[q]) ? 0 : 1;
                }
                gradSq[i] = bad > 0 ? Double.NaN : gradSq[i];
            }
            nonFinite[i] = bad;
            gradData[i] = null; // keep no reference to a gradient the optimizer may replace
        }
        measured = true;
        return total;
    }

    /**
     * Called after the optimizer step: on a monitored step, measures the updates and returns (and
     * keeps) the step's record; returns null on other steps.
     *
     * @param step the optimizer step just taken (1 for the first)
     * @param loss the step's training loss
     */
    public StepStats afterOptimizerStep(long step, double loss) {
        if (!armed) {
            return null;
        }
        armed = false;
        if (!measured) {
            return null;
        }
        int nl = layerNames.size();
        double[] lGrad = new double[nl];
        double[] lWeight = new double[nl];
        double[] lDelta = new double[nl];
        long[] lBad = new long[nl];
        long[] lCount = new long[nl];
        boolean[] lHas = new boolean[nl];
        boolean[] lTrain = new boolean[nl];
        Map<String, Norms> perParam = new LinkedHashMap<>();
        double totalBad = 0;
        double totalCount = 0;
        for (int i = 0; i < params.length; i++) {
            Tensor p = params[i];
            weightData[i] = p.isContiguous() ? p.floatStorage() : p.toFloatArray();
            weightOffset[i] = p.isContiguous() ? p.offset() : 0;
        }
        Kernels k = Kernels.get();
        Kernels.parallelFor(partParam.length, PARTS_PER_THREAD, (from, to) -> {
            for (int c = from; c < to; c++) {
                int i = partParam[c];
                partDeltaSq[c] = k.sumOfSquaredDifferences(weightData[i], weightOffset[i] + partStart[c], before[i],
                        partStart[c], partLength[c]);
            }
        });
        double[] deltaSq = this.deltaSq;
        java.util.Arrays.fill(deltaSq, 0);
        for (int c = 0; c < partParam.length; c++) {
            deltaSq[partParam[c]] += partDeltaSq[c];
        }
        for (int i = 0; i < params.length; i++) {
            Tensor p = params[i];
            weightData[i] = null;
            double d = deltaSq[i];
            int numel = before[i].length;
            boolean trainable = p.requiresGrad();
            double frac = hasGrad[i] && numel > 0 ? (double) nonFinite[i] / numel : 0;
            perParam.put(names[i], new Norms(Math.sqrt(gradSq[i]), Math.sqrt(weightSq[i]),
                    weightSq[i] > 0 ? Math.sqrt(d / weightSq[i]) : Double.NaN, frac, hasGrad[i], trainable));
            int l = layerIndex[i];
            lGrad[l] += gradSq[i];
            lWeight[l] += weightSq[i];
            lDelta[l] += d;
            if (hasGrad[i]) {
                lBad[l] += nonFinite[i];
                lCount[l] += numel;
                totalBad += nonFinite[i];
                totalCount += numel;
            }
            lHas[l] |= hasGrad[i];
            lTrain[l] |= trainable;
        }
        Map<String, Norms> perLayer = new LinkedHashMap<>();
        for (int l = 0; l < nl; l++) {
            perLayer.put(layerNames.get(l), new Norms(Math.sqrt(lGrad[l]), Math.sqrt(lWeight[l]),
                    lWeight[l] > 0 ? Math.sqrt(lDelta[l] / lWeight[l]) : Double.NaN,
                    lCount[l] > 0 ? (double) lBad[l] / lCount[l] : 0, lHas[l], lTrain[l]));
        }
        Map<String, Double> dead = new LinkedHashMap<>();
        alive.forEach((label, mask) -> {
            if (mask.length > 0) {
                int deadUnits = 0;
                for (boolean a : mask) {
                    deadUnits += a ? 0 : 1;
                }
                dead.put(label, (double) deadUnits / mask.length);
            }
        });
        StepStats stats = new StepStats(step, loss, globalGradNorm, totalCount > 0 ? totalBad / totalCount : 0,
                perParam, perLayer, dead);
        records.addLast(stats);
        while (records.size() > options.history()) {
            records.removeFirst();
        }
        return stats;
    }

    /** The kept records, oldest first. */
    public List<StepStats> records() {
        return List.copyOf(records);
    }

    /** The latest record, or null before any. */
    public StepStats latest() {
        return records.peekLast();
    }
}
