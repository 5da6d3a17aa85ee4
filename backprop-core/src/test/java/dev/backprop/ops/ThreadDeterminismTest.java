package dev.backprop.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;

import dev.backprop.kernels.Kernels;
import dev.backprop.nn.F;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Ops whose work is split over threads give the same bits on 1, 2 and 3 threads, forward and
 * backward: the split never changes the order of a sum.
 */
class ThreadDeterminismTest {
    private final int defaultThreads = Kernels.threads();

    @AfterEach
    void restore() {
        Kernels.setThreads(defaultThreads);
    }

    /** Values of the output and of every input gradient after backward of sum(f(inputs) * weights). */
    private static List<float[]> run(int threads, Function<List<Tensor>, Tensor> f, int[]... shapes) {
        Kernels.setThreads(threads);
        Generator g = new Generator(7);
        List<Tensor> inputs = new ArrayList<>();
        for (int[] s : shapes) {
            inputs.add(Tensor.randn(g, s).requiresGrad(true));
        }
        Tensor y = f.apply(inputs);
        Tensor w = Tensor.randn(new Generator(8), y.shape());
        y.mul(w).sum().backward();
        List<float[]> out = new ArrayList<>();
        out.add(y.toFloatArray());
        for (Tensor t : inputs) {
            out.add(t.grad().toFloatArray());
        }
        return out;
    }

    private static void assertSameOnAnyThreadCount(Function<List<Tensor>, Tensor> f, int[]... shapes) {
        List<float[]> one = run(1, f, shapes);
        for (int threads : new int[] {2, 3}) {
            List<float[]> many = run(threads, f, shapes);
            for (int i = 0; i < one.size(); i++) {
                assertArrayEquals(one.get(i), many.get(i), (i == 0 ? "output" : "gradient of input " + (i - 1))
                        + " on " + threads + " threads");
            }
        }
    }

    @Test
    void conv2dWithManySamples() {
        assertSameOnAnyThreadCount(in -> F.conv2d(in.get(0), in.get(1), in.get(2), 1, 1, 1, 1),
                new int[] {37, 3, 9, 9}, new int[] {8, 3, 3, 3}, new int[] {8});
    }

    @Test
    void linearAndElementwiseLargeEnoughToSplit() {
        assertSameOnAnyThreadCount(in -> F.linear(in.get(0), in.get(1), in.get(2)).tanh().mul(in.get(0).sum()),
                new int[] {300, 257}, new int[] {129, 257}, new int[] {129});
    }

    @Test
    void maxPoolAndRelu() {
        assertSameOnAnyThreadCount(in -> F.maxPool2d(in.get(0).relu(), 2), new int[] {9, 16, 30, 30});
    }
}
