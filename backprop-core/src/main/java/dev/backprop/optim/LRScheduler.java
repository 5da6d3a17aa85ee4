package dev.backprop.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Learning-rate schedules, after {@code torch.optim.lr_scheduler}: call {@link #step()} once per
 * optimizer step (or per epoch, as you schedule), after {@code optimizer.step()}. Each schedule is
 * a closed-form function of its step counter and the groups' base learning rates, so its whole
 * state is that counter (plus the bookkeeping of {@link ReduceLROnPlateau}) and a resumed run
 * continues exactly.
 */
public abstract class LRScheduler {
    protected final Optimizer optimizer;
    private final double[] baseLrs;
    private long lastEpoch;

    protected LRScheduler(Optimizer optimizer) {
        this.optimizer = optimizer;
        List<ParamGroup> groups = optimizer.paramGroups();
        this.baseLrs = new double[groups.size()];
        for (int g = 0; g < baseLrs.length; g++) {
            baseLrs[g] = groups.get(g).has("initial_lr") ? groups.get(g).get("initial_lr") : groups.get(g).lr();
            groups.get(g).set("initial_lr", baseLrs[g]);
        }
        apply();
    }

    /** The learning rate of a group at step {@code t} (0 = before the first step). */
    protected abstract double lrAt(long t, double baseLr);

    /** Advances one step and sets the groups' learning rates. */
    public void step() {
        lastEpoch++;
        apply();
    }

    private void apply() {
        List<ParamGroup> groups = optimizer.paramGroups();
        for (int g = 0; g < groups.size(); g++) {
            groups.get(g).setLr(lrAt(lastEpoch, baseLrs[g]));
        }
    }

    /** Steps taken so far. */
    public long lastEpoch() {
        return lastEpoch;
    }

    /** The learning rates of the groups now. */
    public List<Double> lastLr() {
        List<Double> out = new ArrayList<>();
        optimizer.paramGroups().forEach(g -> out.add(g.lr()));
        return out;
    }

    /** Exact state for checkpoints. */
    public Map<String, String> state() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("last_epoch", Long.toString(lastEpoch));
        return s;
    }

    public void loadState(Map<String, String> state) {
        String v = state.get("last_epoch");
        if (v == null) {
            throw new IllegalArgumentException("schedule state has no last_epoch; it has " + state.keySet());
        }
        try {
            lastEpoch = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("schedule state last_epoch is not a whole number: '" + v + "'");
        }
        apply();
    }

    /** Multiplies the rate by {@code gamma} every {@code stepSize} steps (StepLR). */
    public static LRScheduler step(Optimizer optimizer, int stepSize, double gamma) {
        positive(stepSize, "step_size");
        return of(optimizer, (t, base) -> base * Math.pow(gamma, Math.floorDiv(t, stepSize)));
    }

    /** Multiplies the rate by {@code gamma} every step (ExponentialLR). */
    public static LRScheduler exponential(Optimizer optimizer, double gamma) {
        return of(optimizer, (t, base) -> base * Math.pow(gamma, t));
    }

    /** Cosine annealing from the base rate to {@code etaMin} over {@code tMax} steps (CosineAnnealingLR). */
    public static LRScheduler cosine(Optimizer optimizer, int tMax, double etaMin) {
        positive(tMax, "T_max");
        return of(optimizer, (t, base) -> etaMin + (base - etaMin) * (1 + Math.cos(Math.PI * t / tMax)) / 2);
    }

    /** Linear change of the factor from {@code startFactor} to {@code endFactor} over {@code totalIters} (LinearLR). */
    public static LRScheduler linear(Optimizer optimizer, double startFactor, double endFactor, int totalIters) {
        positive(totalIters, "total_iters");
        if (!(startFactor > 0 && startFactor <= 1)) {
            throw new IllegalArgumentException("start_factor must be in (0, 1], got " + startFactor);
        }
        return of(optimizer, (t, base) ->
                base * (startFactor + (endFactor - startFactor) * Math.min(t, totalIters) / totalIters));
    }

    /**
     * The one-cycle policy (OneCycleLR, two phases, cosine annealing): from max_lr / divFactor up
     * to maxLr over pctStart of the steps, then down to the initial rate / finalDivFactor.
     */
    public static LRScheduler oneCycle(Optimizer optimizer, double maxLr, int totalSteps, double pctStart,
            double divFactor, double finalDivFactor) {
        positive(totalSteps, "total_steps");
        double initial = maxLr / divFactor;
        double min = initial / finalDivFactor;
        double warmEnd = pctStart * totalSteps - 1;
        double end = totalSteps - 1;
        return of(optimizer, (t, base) -> {
            if (t > totalSteps) {
                throw new IllegalStateException("OneCycleLR stepped " + t + " times, more than total_steps "
                        + totalSteps);
            }
            return t <= warmEnd ? cosineAnneal(initial, maxLr, t / warmEnd)
                    : cosineAnneal(maxLr, min, (t - warmEnd) / (end - warmEnd));
        });
    }

    /** OneCycleLR with PyTorch's defaults (pct_start 0.3, div_factor 25, final_div_factor 1e4). */
    public static LRScheduler oneCycle(Optimizer optimizer, double maxLr, int totalSteps) {
        return oneCycle(optimizer, maxLr, totalSteps, 0.3, 25, 1e4);
    }

    private static double cosineAnneal(double start, double end, double pct) {
        return end + (start - end) / 2 * (Math.cos(Math.PI * pct) + 1);
    }

    /**
     * Runs {@code schedules} one after the other (SequentialLR): the i-th takes over at step
     * {@code milestones[i-1]}, counting its own steps from 0 — for example linear warm-up then cosine.
     */
    public static LRScheduler sequential(Optimizer optimizer, List<LRScheduler> schedules, int... milestones) {
        if (schedules.size() != milestones.length + 1) {
            throw new IllegalArgumentException("sequential: " + schedules.size() + " schedules need "
                    + (schedules.size() - 1) + " milestones, got " + milestones.length);
        }
        return of(optimizer, (t, base) -> {
            int i = 0;
            long start = 0;
            while (i < milestones.length && t >= milestones[i]) {
                start = milestones[i];
                i++;
            }
            return schedules.get(i).lrAt(t - start, base);
        });
    }

    /** Linear warm-up over {@code warmupSteps} from {@code startFactor}, then cosine decay to {@code etaMin}. */
    public static LRScheduler warmupCosine(Optimizer optimizer, int warmupSteps, int totalSteps, double startFactor,
            double etaMin) {
        return sequential(optimizer, List.of(linear(optimizer, startFactor, 1.0, warmupSteps),
                cosine(optimizer, totalSteps - warmupSteps, etaMin)), warmupSteps);
    }

    /**
     * Linear warm-up then inverse square root (fairseq's {@code inverse_sqrt}): the rate of step
     * t + 1 (t steps taken) is {@code base · min((t+1) / warmupSteps, √(warmupSteps / (t+1)))}, which
     * peaks at the base rate after {@code warmupSteps} steps. This is the "Noam" schedule of
     * "Attention Is All You Need", {@code factor · d^-½ · min(s^-½, s · warmup^-1.5)} with s = t + 1,
     * for a base rate of {@code factor · (d · warmupSteps)^-½}.
     */
    public static LRScheduler inverseSqrt(Optimizer optimizer, int warmupSteps) {
        positive(warmupSteps, "warmup_steps");
        return of(optimizer, (t, base) -> {
            double s = t + 1;
            return base * Math.min(s / warmupSteps, Math.sqrt(warmupSteps / s));
        });
    }

    /**
     * nanoGPT's {@code get_lr}: a linear warm-up to the base rate, then a cosine decay to
     * {@code minLr} at step {@code decaySteps}, and {@code minLr} after it:
     * <pre>
     *   t &lt; warmup:  base · (t + 1) / (warmup + 1)
     *   otherwise:   minLr + ½ (1 + cos(π · min(1, (t − warmup) / (decaySteps − warmup)))) · (base − minLr)
     * </pre>
     * The same numbers as {@link #warmupCosine warmupCosine(o, warmup, decaySteps, 1 / (warmup + 1),
     * minLr)} up to {@code decaySteps}; unlike it, this one holds {@code minLr} afterwards and allows
     * {@code warmupSteps = 0}.
     */
    public static LRScheduler linearWarmupCosineDecay(Optimizer optimizer, int warmupSteps, int decaySteps,
            double minLr) {
        if (warmupSteps < 0 || decaySteps <= warmupSteps) {
            throw new IllegalArgumentException("linearWarmupCosineDecay: expected 0 <= warmup steps < decay steps, got "
                    + "warmup " + warmupSteps + " and decay " + decaySteps);
        }
        return of(optimizer, (t, base) -> {
            if (t < warmupSteps) {
                return base * (t + 1) / (warmupSteps + 1);
            }
            double ratio = Math.min(1.0, (double) (t - warmupSteps) / (decaySteps - warmupSteps));
            return minLr + 0.5 * (1.0 + Math.cos(Math.PI * ratio)) * (base - minLr);
        });
    }

    /** A schedule from a closed-form rule {@code lr(t, baseLr)}. */
    public static LRScheduler of(Optimizer optimizer, Rule rule) {
        return new LRScheduler(optimizer) {
            @Override
            protected double lrAt(long t, double baseLr) {
                return rule.lr(t, baseLr);
            }
        };
    }

    /** A learning rate as a function of the step and the base rate. */
    @FunctionalInterface
    public interface Rule {
        double lr(long t, double baseLr);
    }

    private static void positive(int v, String name) {
        if (v <= 0) {
            throw new IllegalArgumentException(name + " must be positive, got " + v);
        }
    }
}
