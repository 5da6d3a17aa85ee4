package dev.backprop.bench;

import dev.backprop.kernels.Kernels;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

/**
 * Runs a workload by the protocol of {@code WORKLOADS.md}: warm-up steps, then blocks of timed
 * steps (median over all of them), then the same for forward-only passes.
 *
 * <p>The warm-up lasts at least {@code warmup} steps and at least {@code warmupSeconds}: the JVM
 * compiles the hot code while the first steps run (on W1 the first ~40 steps are slower), and a
 * fixed count of 5 would time the compiler. That start-up cost is not hidden: the time from
 * building the workload to the end of its first step is reported on its own.
 *
 * @param warmup fewest untimed steps before timing (the first one is timed as time to first step)
 * @param warmupSeconds least time spent on untimed steps before timing
 * @param steps timed steps per block
 * @param blocks blocks of timed steps
 */
public record WorkloadRunner(int warmup, double warmupSeconds, int steps, int blocks) {

    public WorkloadRunner {
        if (warmup < 1 || steps < 1 || blocks < 1 || !(warmupSeconds >= 0)) {
            throw new IllegalArgumentException("bench: expected warmup >= 1, steps >= 1 and blocks >= 1, got warmup="
                    + warmup + ", steps=" + steps + ", blocks=" + blocks);
        }
    }


    /** Builds the workload with {@code factory} and times it on {@code threads} kernel threads. */
    public WorkloadResult run(Supplier<Workload> factory, int threads) {
        int before = Kernels.threads();
        Kernels.setThreads(threads);
        try {
            Memory.resetPeakResident();
            long t0 = System.nanoTime();
            Workload w = factory.get();
            w.step().run();
            double firstStepMs = (System.nanoTime() - t0) / 1e6;
            warmUp(w.step(), 1);
            long alloc0 = Memory.allocatedBytes();
            List<double[]> perBlock = new ArrayList<>();
            for (int b = 0; b < blocks; b++) {
                perBlock.add(new double[steps]);
            }
            for (double[] ts : perBlock) {
                for (int s = 0; s < steps; s++) {
                    long s0 = System.nanoTime();
                    w.step().run();
                    ts[s] = (System.nanoTime() - s0) / 1e6;
                }
            }
            long alloc1 = Memory.allocatedBytes();
            Timing step = Timing.of(perBlock);
            warmUp(w.forward(), 0);
            Timing forward = Timing.measure(w.forward(), 0, steps, blocks);
            long perStep = alloc0 < 0 || alloc1 < 0 ? -1 : (alloc1 - alloc0) / ((long) steps * blocks);
            return new WorkloadResult(w.id(), threads, w.batch(), w.parameters(), step, forward, firstStepMs,
                    perStep, Memory.peakResidentBytes());
        } finally {
            Kernels.setThreads(before);
        }
    }

    /**
     * Two variants of a workload timed side by side in one process: both are built and warmed up,
     * then {@code rounds} rounds each time one block of {@link #steps()} steps of each, in the
     * order A B, B A, A B, ... so that drift (JIT, another process, thermal) falls on both.
     *
     * @param a the baseline
     * @param b the variant
     * @return the timings of both over all rounds, and the median over rounds of the ratio of
     *     b's block mean to a's block mean (means, so that work done every n-th step counts; the
     *     median over rounds is robust against noise shared by a round)
     */
    public Paired compare(Supplier<Workload> a, Supplier<Workload> b, int threads, int rounds) {
        int before = Kernels.threads();
        Kernels.setThreads(threads);
        try {
            Workload wa = a.get();
            Workload wb = b.get();
            warmUp(wa.step(), 0);
            warmUp(wb.step(), 0);
            long watched0 = wb.watchNanos() == null ? 0 : wb.watchNanos().getAsLong();
            long bCpu = 0;
            java.lang.management.ThreadMXBean cpu = java.lang.management.ManagementFactory.getThreadMXBean();
            List<double[]> ta = new ArrayList<>();
            List<double[]> tb = new ArrayList<>();
            double[] ratios = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                double[] xa = new double[steps];
                double[] xb = new double[steps];
                if (r % 2 == 0) {
                    block(wa, xa);
                }
                long c0 = cpu.getCurrentThreadCpuTime();
                block(wb, xb);
                bCpu += cpu.getCurrentThreadCpuTime() - c0;
                if (r % 2 == 1) {
                    block(wa, xa);
                }
                ta.add(xa);
                tb.add(xb);
                ratios[r] = mean(xb) / mean(xa);
            }
            double watched = wb.watchNanos() == null ? Double.NaN : wb.watchNanos().getAsLong() - watched0;
            return new Paired(wa.id(), threads, Timing.of(ta), Timing.of(tb), Timing.median(ratios),
                    watched / (bCpu - watched));
        } finally {
            Kernels.setThreads(before);
        }
    }

    /**
     * The result of {@link #compare}.
     *
     * @param ratio median over rounds of b's block mean over a's
     * @param selfTimed CPU time of the calling thread b spent in its own extra code (its
     *     {@link Workload#watchNanos()}) over the rest of the calling thread's CPU time in b's steps,
     *     NaN when it does not count it: the overhead measured from the inside, insensitive to other
     *     processes; exact on 1 thread, an upper bound on more (the workers' CPU time is not in the
     *     denominator)
     */
    public record Paired(String id, int threads, Timing a, Timing b, double ratio, double selfTimed) {}

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) {
            s += x;
        }
        return s / v.length;
    }

    private void block(Workload w, double[] times) {
        for (int s = 0; s < times.length; s++) {
            long s0 = System.nanoTime();
            w.step().run();
            times[s] = (System.nanoTime() - s0) / 1e6;
        }
    }

    private void warmUp(Runnable action, int done) {
        long until = System.nanoTime() + (long) (warmupSeconds * 1e9);
        for (int i = done; i < warmup || System.nanoTime() < until; i++) {
            action.run();
        }
    }
}
