package dev.backprop.train;

import dev.backprop.autograd.GradMode;
import dev.backprop.data.Batch;
import dev.backprop.data.DataLoader;
import dev.backprop.nn.Module;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The learning-rate range test (Smith, 2017; fastai's {@code lr_find}): train for a few hundred
 * steps while the learning rate grows exponentially from {@code start} to {@code end}, record the
 * smoothed loss at each, stop once it diverges, and suggest the rate where the loss fell fastest.
 * The model's weights and the optimizer's state are put back afterwards, so a run can start from
 * the suggestion with the same initial weights.
 */
public final class LrFinder {
    /** Weight of the running average of the loss (0.98, as fastai). */
    public static final double SMOOTHING = 0.98;
    /** The sweep stops when the smoothed loss exceeds this many times its best value. */
    public static final double DIVERGENCE = 4.0;

    /** One point of the sweep. */
    public record Point(double lr, double loss, double smoothedLoss) {}

    /**
     * The sweep and its outcome.
     *
     * @param points every step (rate, raw loss, smoothed loss)
     * @param suggestion the rate with the steepest fall of the smoothed loss (NaN when the loss
     *     never fell)
     * @param minLossLr the rate at the lowest smoothed loss
     * @param diverged whether the sweep stopped early because the loss blew up
     */
    public record Result(List<Point> points, double suggestion, double minLossLr, boolean diverged) {}

    private LrFinder() {}

    /**
     * Sweeps {@code steps} learning rates from {@code start} to {@code end} (geometric) over batches
     * of {@code loader} (restarting it as needed).
     */
    public static Result run(Module model, Optimizer optimizer, Trainer.Loss loss, DataLoader loader, double start,
                             double end, int steps) {
        if (!(start > 0) || !(end > start) || steps < 2) {
            throw new IllegalArgumentException("lr-find: expected 0 < start < end and at least 2 steps, got start="
                    + start + ", end=" + end + ", steps=" + steps);
        }
        Map<String, Tensor> weights = model.stateDict();
        Map<String, Tensor> saved = new java.util.LinkedHashMap<>();
        weights.forEach((k, t) -> saved.put(k, t.detach().copy()));
        Optimizer.State optimizerState = optimizer.state();
        double before = optimizer.lr();
        List<Point> points = new ArrayList<>();
        boolean diverged = false;
        try {
            double factor = Math.pow(end / start, 1.0 / (steps - 1));
            double avg = 0;
            double best = Double.POSITIVE_INFINITY;
            int step = 0;
            model.train();
            outer:
            while (step < steps) {
                int batchesSeen = 0;
                for (Batch batch : loader) {
                    batchesSeen++;
                    double lr = start * Math.pow(factor, step);
                    optimizer.setLr(lr);
                    optimizer.zeroGrad();
                    Tensor l = loss.compute(model.forward(batch.inputs()), batch.targets());
                    double value = l.item();
                    if (!Double.isFinite(value)) {
                        diverged = true;
                        break outer;
                    }
                    l.backward();
                    try (GradMode.Scope ignored = GradMode.noGrad()) {
                        optimizer.step();
                    }
                    step++;
                    avg = SMOOTHING * avg + (1 - SMOOTHING) * value;
                    double smoothed = avg / (1 - Math.pow(SMOOTHING, step));
                    points.add(new Point(lr, value, smoothed));
                    best = Math.min(best, smoothed);
                    if (step > 1 && smoothed > DIVERGENCE * best) {
                        diverged = true;
                        break outer;
                    }
                    if (step >= steps) {
                        break outer;
                    }
                }
                if (batchesSeen == 0) {
                    throw new IllegalArgumentException("lr-find: the data loader yields no batches");
                }
            }
        } finally {
            optimizer.zeroGrad();
            model.loadStateDict(saved);
            optimizer.loadState(optimizerState);
            optimizer.setLr(before);
        }
        return new Result(List.copyOf(points), suggest(points), minLossLr(points), diverged);
    }

    /**
     * The rate where the smoothed loss falls fastest per unit of log(lr), measured over a window
     * of a twentieth of the sweep on each side (single steps are noisy: one batch is easier than
     * the next), ignoring the first tenth of the sweep (warm-up of the average) and everything
     * after the lowest smoothed loss (the blow-up, and any fall back from it); NaN when it never falls.
     */
    static double suggest(List<Point> points) {
        int n = points.size();
        int k = Math.max(1, n / 20);
        int lo = Math.max(k, n / 10);
        int lowest = 0;
        for (int i = 1; i < n; i++) {
            if (points.get(i).smoothedLoss() < points.get(lowest).smoothedLoss()) {
                lowest = i;
            }
        }
        int hi = Math.min(Math.min(n - k, n - n / 10), lowest + 1);
        double steepest = 0;
        double lr = Double.NaN;
        for (int i = lo; i < hi; i++) {
            Point a = points.get(i - k);
            Point b = points.get(i + k - 1 < n ? i + k - 1 : n - 1);
            if (b == a) {
                continue;
            }
            double slope = (b.smoothedLoss() - a.smoothedLoss()) / (Math.log(b.lr()) - Math.log(a.lr()));
            if (slope < steepest) {
                steepest = slope;
                lr = points.get(i).lr();
            }
        }
        return lr;
    }

    private static double minLossLr(List<Point> points) {
        double best = Double.POSITIVE_INFINITY;
        double lr = Double.NaN;
        for (Point p : points) {
            if (p.smoothedLoss() < best) {
                best = p.smoothedLoss();
                lr = p.lr();
            }
        }
        return lr;
    }
}
