package dev.backprop.optim;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Lowers the learning rate by {@code factor} when a metric has not improved for {@code patience}
 * evaluations, as {@code torch.optim.lr_scheduler.ReduceLROnPlateau} (relative threshold mode,
 * cooldown, minimum rate). Call {@link #step(double)} with the metric after each evaluation.
 */
public final class ReduceLROnPlateau {
    public enum Mode { MIN, MAX }

    private final Optimizer optimizer;
    private final Mode mode;
    private final double factor;
    private final int patience;
    private final double threshold;
    private final boolean relativeThreshold;
    private final int cooldown;
    private final double minLr;
    private final double eps;
    private double best;
    private int badEpochs;
    private int cooldownCounter;
    private long lastEpoch;

    /** PyTorch's defaults: mode min, factor 0.1, patience 10, threshold 1e-4 (relative), no cooldown. */
    public ReduceLROnPlateau(Optimizer optimizer) {
        this(optimizer, Mode.MIN, 0.1, 10, 1e-4, true, 0, 0, 1e-8);
    }

    public ReduceLROnPlateau(Optimizer optimizer, Mode mode, double factor, int patience, double threshold,
            boolean relativeThreshold, int cooldown, double minLr, double eps) {
        if (!(factor < 1)) {
            throw new IllegalArgumentException("ReduceLROnPlateau: factor should be < 1.0, got " + factor);
        }
        this.optimizer = optimizer;
        this.mode = mode;
        this.factor = factor;
        this.patience = patience;
        this.threshold = threshold;
        this.relativeThreshold = relativeThreshold;
        this.cooldown = cooldown;
        this.minLr = minLr;
        this.eps = eps;
        this.best = mode == Mode.MIN ? Double.POSITIVE_INFINITY : Double.NEGATIVE_INFINITY;
    }

    /** Records a metric value; lowers the rates once the metric has stalled for longer than patience. */
    public void step(double metric) {
        lastEpoch++;
        if (isBetter(metric)) {
            best = metric;
            badEpochs = 0;
        } else {
            badEpochs++;
        }
        if (cooldownCounter > 0) {
            cooldownCounter--;
            badEpochs = 0;
        }
        if (badEpochs > patience) {
            for (ParamGroup g : optimizer.paramGroups()) {
                double old = g.lr();
                double next = Math.max(old * factor, minLr);
                if (old - next > eps) {
                    g.setLr(next);
                }
            }
            cooldownCounter = cooldown;
            badEpochs = 0;
        }
    }

    private boolean isBetter(double a) {
        if (mode == Mode.MIN) {
            return relativeThreshold ? a < best * (1 - threshold) : a < best - threshold;
        }
        return relativeThreshold ? a > best * (threshold + 1) : a > best + threshold;
    }

    public List<Double> lastLr() {
        return optimizer.paramGroups().stream().map(ParamGroup::lr).toList();
    }

    public Map<String, String> state() {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("best", Double.toString(best));
        s.put("num_bad_epochs", Integer.toString(badEpochs));
        s.put("cooldown_counter", Integer.toString(cooldownCounter));
        s.put("last_epoch", Long.toString(lastEpoch));
        return s;
    }

    /**
     * Restores a state saved by {@link #state()}.
     *
     * @throws IllegalArgumentException naming the entry if one is missing or malformed; nothing is
     *     changed then
     */
    public void loadState(Map<String, String> s) {
        String where = "reduce-on-plateau state";
        try {
            double b = Double.parseDouble(entry(s, "best"));
            int bad = Integer.parseInt(entry(s, "num_bad_epochs"));
            int cool = Integer.parseInt(entry(s, "cooldown_counter"));
            long last = Long.parseLong(entry(s, "last_epoch"));
            best = b;
            badEpochs = bad;
            cooldownCounter = cool;
            lastEpoch = last;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(where + " has a malformed number (" + e.getMessage() + "): " + s, e);
        }
    }

    private static String entry(Map<String, String> s, String key) {
        String v = s.get(key);
        if (v == null) {
            throw new IllegalArgumentException("reduce-on-plateau state has no '" + key + "'; it has " + s.keySet());
        }
        return v;
    }
}
