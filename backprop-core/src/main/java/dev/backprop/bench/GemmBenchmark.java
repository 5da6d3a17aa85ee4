package dev.backprop.bench;

import dev.backprop.kernels.Kernels;
import dev.backprop.tensor.Generator;
import java.util.ArrayList;
import java.util.List;

/**
 * GEMM throughput per shape (W5 and the narrow shapes of W1–W4): the median time of at least
 * {@code minReps} calls lasting together at least {@code minSeconds}, after 3 untimed calls, as
 * the PyTorch anchor script times {@code torch.mm} and {@code numpy.matmul}.
 *
 * @param minReps fewest timed calls
 * @param minSeconds least total timed seconds
 */
public record GemmBenchmark(int minReps, double minSeconds) {

    /** One measured shape. */
    public record Result(GemmShape shape, int threads, double medianMs, double gflops, double bestGflops, int reps) {}


    /** Times {@code kernels} on each shape with {@code threads} kernel threads. */
    public List<Result> run(Kernels kernels, List<GemmShape> shapes, int threads) {
        int before = Kernels.threads();
        Kernels.setThreads(threads);
        try {
            List<Result> out = new ArrayList<>();
            for (GemmShape s : shapes) {
                out.add(time(kernels, s, threads));
            }
            return out;
        } finally {
            Kernels.setThreads(before);
        }
    }

    private Result time(Kernels kernels, GemmShape s, int threads) {
        Generator gen = new Generator(s.m() * 31L + s.n() * 17L + s.k());
        float[] a = random(gen, s.m() * s.k());
        float[] b = random(gen, s.k() * s.n());
        float[] c = new float[s.m() * s.n()];
        int lda = s.transA() ? s.m() : s.k();
        int ldb = s.transB() ? s.k() : s.n();
        Runnable call = () -> kernels.gemm(s.transA(), s.transB(), s.m(), s.n(), s.k(), a, 0, lda, b, 0, ldb, c, 0,
                s.n(), false);
        for (int i = 0; i < 3; i++) {
            call.run();
        }
        List<Double> ts = new ArrayList<>();
        long start = System.nanoTime();
        while (ts.size() < minReps || (System.nanoTime() - start) / 1e9 < minSeconds) {
            long t0 = System.nanoTime();
            call.run();
            ts.add((System.nanoTime() - t0) / 1e9);
        }
        double[] arr = ts.stream().mapToDouble(Double::doubleValue).toArray();
        double median = Timing.median(arr);
        double best = ts.stream().mapToDouble(Double::doubleValue).min().orElseThrow();
        return new Result(s, threads, median * 1e3, s.flops() / median / 1e9, s.flops() / best / 1e9, arr.length);
    }

    private static float[] random(Generator gen, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = (float) gen.nextGaussian();
        }
        return v;
    }
}
