package dev.backprop.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Times of one repeated action, as the PyTorch anchor script reports them: the median over every
 * timed call (the figure to quote), the minimum and mean, and the median of each block of calls
 * (blocks that differ much show the machine drifting during the run).
 *
 * @param medianMs median over all timed calls, milliseconds
 * @param minMs fastest call
 * @param meanMs mean call
 * @param blockMediansMs the median of each block
 * @param n how many calls were timed
 */
public record Timing(double medianMs, double minMs, double meanMs, double[] blockMediansMs, int n) {

    /** Runs {@code action} {@code warmup} times untimed, then {@code blocks} blocks of {@code steps} timed calls. */
    public static Timing measure(Runnable action, int warmup, int steps, int blocks) {
        if (warmup < 0 || steps < 1 || blocks < 1) {
            throw new IllegalArgumentException("timing: expected warmup >= 0, steps >= 1 and blocks >= 1, got "
                    + warmup + ", " + steps + ", " + blocks);
        }
        for (int i = 0; i < warmup; i++) {
            action.run();
        }
        List<double[]> perBlock = new ArrayList<>();
        for (int b = 0; b < blocks; b++) {
            double[] ts = new double[steps];
            for (int s = 0; s < steps; s++) {
                long t0 = System.nanoTime();
                action.run();
                ts[s] = (System.nanoTime() - t0) / 1e6;
            }
            perBlock.add(ts);
        }
        return of(perBlock);
    }

    /** The summary of blocks of call times (milliseconds). */
    public static Timing of(List<double[]> perBlock) {
        int n = perBlock.stream().mapToInt(b -> b.length).sum();
        if (n == 0) {
            throw new IllegalArgumentException("timing: no calls were timed");
        }
        double[] all = new double[n];
        int at = 0;
        double[] blockMedians = new double[perBlock.size()];
        for (int b = 0; b < perBlock.size(); b++) {
            double[] ts = perBlock.get(b);
            System.arraycopy(ts, 0, all, at, ts.length);
            at += ts.length;
            blockMedians[b] = median(ts);
        }
        double sum = 0;
        double min = Double.POSITIVE_INFINITY;
        for (double t : all) {
            sum += t;
            min = Math.min(min, t);
        }
        return new Timing(median(all), min, sum / n, blockMedians, n);
    }

    /** The median (mean of the two middle values for an even count), as Python's statistics.median. */
    public static double median(double[] values) {
        if (values.length == 0) {
            throw new IllegalArgumentException("median of no values");
        }
        double[] s = values.clone();
        Arrays.sort(s);
        int mid = s.length / 2;
        return s.length % 2 == 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
    }
}
