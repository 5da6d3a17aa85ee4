package dev.backprop.kernels;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * GEMM throughput (GFLOP/s = 2·m·n·k / seconds, median of several timed samples) of the scalar
 * and vector kernels on 1 and 2 threads, for the W5 squares and the shapes the reference
 * workloads call (see ../shared/WORKLOADS.md). A plain main, not a test:
 *
 * <pre>
 * mvn -q -B test-compile -pl backprop-core
 * java --add-modules jdk.incubator.vector \
 *      -cp backprop-core/target/classes:backprop-core/target/test-classes:$SLF4J_API_JAR \
 *      dev.backprop.kernels.GemmBench [--quick] [--no-scalar] [part-of-a-shape-name ...]
 * </pre>
 *
 * with {@code $SLF4J_API_JAR} the slf4j-api jar in ~/.m2. Timings on a shared 2-core machine
 * drift between runs (and "vector 2t" needs the second core idle): compare columns of one run.
 */
public final class GemmBench {

    /** One GEMM as a workload calls it, {@code batches} times in a row on consecutive matrices. */
    private record Shape(String name, boolean transA, boolean transB, int m, int n, int k, int batches) {
        double flops() {
            return 2.0 * m * n * k * batches;
        }

        String layout() {
            return (transA ? "T" : "N") + (transB ? "T" : "N");
        }
    }

    private static final List<Shape> SHAPES = List.of(
            new Shape("square 256", false, false, 256, 256, 256, 1),
            new Shape("square 512", false, false, 512, 512, 512, 1),
            new Shape("square 1024", false, false, 1024, 1024, 1024, 1),
            new Shape("square 2048", false, false, 2048, 2048, 2048, 1),
            new Shape("W1 fc1 x·Wᵀ", false, true, 128, 512, 784, 1),
            new Shape("W1 fc1 dW=xᵀ·dy", true, false, 784, 512, 128, 1),
            new Shape("W1 logits x·Wᵀ", false, true, 128, 10, 256, 1),
            new Shape("W1 logits dW=xᵀ·dy", true, false, 256, 10, 128, 1),
            new Shape("W1 logits dx=dy·W", false, false, 128, 256, 10, 1),
            new Shape("W2 conv1 fwd (k=9) x64", false, false, 32, 784, 9, 64),
            new Shape("W2 conv1 dW x64", false, true, 32, 9, 784, 64),
            new Shape("W2 conv2 fwd x64", false, false, 64, 196, 288, 64),
            new Shape("W2 conv2 dW x64", false, true, 64, 288, 196, 64),
            new Shape("W2 conv2 dx x64", true, false, 288, 196, 64, 64),
            new Shape("W3 qkv x·Wᵀ", false, true, 768, 384, 128, 1),
            new Shape("W3 head x·Eᵀ", false, true, 768, 65, 128, 1),
            new Shape("W3 q·kᵀ x48", false, true, 64, 64, 32, 48),
            new Shape("W3 att·v x48", false, false, 64, 32, 64, 48),
            new Shape("W4 h·W_hhᵀ", false, true, 32, 1024, 256, 1));

    private GemmBench() {}

    public static void main(String[] args) {
        boolean quick = Arrays.asList(args).contains("--quick");
        boolean scalar = !Arrays.asList(args).contains("--no-scalar");
        List<String> only = new ArrayList<>();
        for (String a : args) {
            if (!a.startsWith("--")) {
                only.add(a);
            }
        }
        int samples = quick ? 5 : 9;
        double sampleSeconds = quick ? 0.05 : 0.1;
        Kernels vector = new VectorKernels();
        Kernels reference = new ScalarKernels();
        int before = Kernels.threads();
        System.out.printf(Locale.ROOT, "GEMM GFLOP/s, median of %d samples of >= %.0f ms; %s; %d processors%n",
                samples, sampleSeconds * 1000, vector.name(), Runtime.getRuntime().availableProcessors());
        System.out.printf(Locale.ROOT, "%-24s %-2s %5s %5s %5s %9s %9s %9s  %s%n", "shape", "", "m", "n", "k",
                "scalar", "vector 1t", "vector 2t", "path");
        List<Shape> shapes = new ArrayList<>();
        for (Shape s : SHAPES) {
            if (only.isEmpty() || only.stream().anyMatch(s.name::contains)) {
                shapes.add(s);
            }
        }
        try {
            // warm up every path the shapes take, on both thread counts, before timing any: the
            // JIT compiles the kernels once and then for the mix of callers
            for (int round = 0; round < 2; round++) {
                for (Shape s : shapes) {
                    Operands o = new Operands(s, new Random(1));
                    for (int threads = 1; threads <= 2; threads++) {
                        Kernels.setThreads(threads);
                        long start = System.nanoTime();
                        while (System.nanoTime() - start < (quick ? 0.1e9 : 0.25e9)) {
                            call(vector, s, o);
                        }
                    }
                }
            }
            for (Shape s : shapes) {
                Operands o = new Operands(s, new Random(42));
                String scalarRate = "-";
                if (scalar && s.flops() < 3e9) {
                    scalarRate = format(median(reference, s, o, quick ? 3 : 5, sampleSeconds));
                }
                Kernels.setThreads(1);
                double one = median(vector, s, o, samples, sampleSeconds);
                Kernels.setThreads(2);
                double two = median(vector, s, o, samples, sampleSeconds);
                int lda = s.transA ? s.m : s.k;
                int ldb = s.transB ? s.k : s.n;
                VectorKernels.Path path = VectorKernels.plan(s.m, s.n, s.k, s.transA ? 1 : lda, s.transA ? lda : 1,
                        s.transB ? 1 : ldb, s.transB ? ldb : 1);
                System.out.printf(Locale.ROOT, "%-24s %-2s %5d %5d %5d %9s %9s %9s  %s%n", s.name, s.layout(), s.m,
                        s.n, s.k, scalarRate, format(one), format(two), path);
            }
        } finally {
            Kernels.setThreads(before);
        }
    }

    private static String format(double gflops) {
        return String.format(Locale.ROOT, "%.1f", gflops);
    }

    /** Inputs for all batches of one shape, stored back to back. */
    private static final class Operands {
        final float[] a;
        final float[] b;
        final float[] c;
        final int lda;
        final int ldb;

        Operands(Shape s, Random r) {
            a = random(r, s.m * s.k * s.batches);
            b = random(r, s.k * s.n * s.batches);
            c = new float[s.m * s.n * s.batches];
            lda = s.transA ? s.m : s.k;
            ldb = s.transB ? s.k : s.n;
        }

        private static float[] random(Random r, int size) {
            float[] x = new float[size];
            for (int i = 0; i < size; i++) {
                x[i] = (float) r.nextGaussian();
            }
            return x;
        }
    }

    private static void call(Kernels kernels, Shape s, Operands o) {
        for (int t = 0; t < s.batches; t++) {
            kernels.gemm(s.transA, s.transB, s.m, s.n, s.k, o.a, t * s.m * s.k, o.lda, o.b, t * s.k * s.n, o.ldb,
                    o.c, t * s.m * s.n, s.n, false);
        }
    }

    /** Median GFLOP/s over timed samples, after a warm-up as long as one sample. */
    private static double median(Kernels kernels, Shape s, Operands o, int samples, double sampleSeconds) {
        long start = System.nanoTime();
        int calls = 0;
        do { // warm-up, and the number of calls that fills one sample
            call(kernels, s, o);
            calls++;
        } while (System.nanoTime() - start < sampleSeconds * 1e9);
        double[] rates = new double[samples];
        for (int i = 0; i < samples; i++) {
            long t0 = System.nanoTime();
            for (int j = 0; j < calls; j++) {
                call(kernels, s, o);
            }
            rates[i] = s.flops() * calls / (System.nanoTime() - t0);
        }
        Arrays.sort(rates);
        return rates[samples / 2];
    }
}
