package dev.backprop.spark;

import dev.backprop.train.EpochReport;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * What a {@link SparkTrainer#fit} did: the epochs (as the single-machine trainer reports them),
 * the optimizer steps, why it stopped, and per synchronisation (a step, or a round of local SGD)
 * the wall time on the driver and the longest partition's compute time, whose difference is what
 * Spark costs.
 */
public final class SparkHistory {
    private final List<EpochReport> epochs = new ArrayList<>();
    private final List<Double> syncSeconds = new ArrayList<>();
    private final List<Double> computeSeconds = new ArrayList<>();
    private final List<Integer> syncExamples = new ArrayList<>();
    private long steps;
    private String stopReason;

    void addEpoch(EpochReport e) {
        epochs.add(e);
    }

    void addSync(double seconds, double compute, int examples) {
        syncSeconds.add(seconds);
        computeSeconds.add(compute);
        syncExamples.add(examples);
    }

    void finish(long steps, String stopReason) {
        this.steps = steps;
        this.stopReason = stopReason;
    }

    /** The finished epochs, in order. */
    public List<EpochReport> epochs() {
        return List.copyOf(epochs);
    }

    /** The last finished epoch, or null. */
    public EpochReport last() {
        return epochs.isEmpty() ? null : epochs.get(epochs.size() - 1);
    }

    /** Optimizer steps taken (local SGD: local steps, each partition taking them in parallel). */
    public long steps() {
        return steps;
    }

    /** "epochs" or "max steps". */
    public String stopReason() {
        return stopReason;
    }

    /** Wall time of each synchronisation (a step, or a local-SGD round), seconds. */
    public List<Double> syncSeconds() {
        return List.copyOf(syncSeconds);
    }

    /** The longest partition's compute time in each synchronisation, seconds. */
    public List<Double> computeSeconds() {
        return List.copyOf(computeSeconds);
    }

    /** Median wall time of a synchronisation, skipping the first {@code warmup} (JIT, first task). */
    public double medianSyncSeconds(int warmup) {
        return median(syncSeconds, warmup);
    }

    /** Median of (wall time - longest compute time): what one synchronisation costs beyond the work. */
    public double medianOverheadSeconds(int warmup) {
        List<Double> d = new ArrayList<>();
        for (int i = 0; i < syncSeconds.size(); i++) {
            d.add(syncSeconds.get(i) - computeSeconds.get(i));
        }
        return median(d, warmup);
    }

    /**
     * Training examples per second over the synchronisations after the first {@code warmup} (all
     * but the last one when there are no more).
     */
    public double examplesPerSecond(int warmup) {
        double s = 0;
        long n = 0;
        for (int i = Math.min(warmup, Math.max(0, syncSeconds.size() - 1)); i < syncSeconds.size(); i++) {
            s += syncSeconds.get(i);
            n += syncExamples.get(i);
        }
        return s > 0 ? n / s : Double.NaN;
    }

    private static double median(List<Double> xs, int skip) {
        int from = Math.min(skip, Math.max(0, xs.size() - 1));
        double[] v = xs.subList(from, xs.size()).stream().mapToDouble(Double::doubleValue).toArray();
        if (v.length == 0) {
            return Double.NaN;
        }
        Arrays.sort(v);
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }
}
