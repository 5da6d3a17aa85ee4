package dev.backprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.backprop.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class InverseSqrtScheduleTest {

    @Test
    void followsTheNoamFormula() {
        int d = 256;
        int warmup = 4000;
        double factor = 2.0;
        Tensor w = Tensor.zeros(2).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), factor / Math.sqrt((double) d * warmup));
        LRScheduler schedule = LRScheduler.inverseSqrt(sgd, warmup);
        for (int step = 1; step <= 20000; step++) {
            // "Attention Is All You Need", eq. 3: lrate = factor · d^-0.5 · min(step^-0.5, step · warmup^-1.5)
            double noam = factor * Math.pow(d, -0.5) * Math.min(Math.pow(step, -0.5), step * Math.pow(warmup, -1.5));
            assertEquals(noam, sgd.lr(), noam * 1e-12, "step " + step);
            schedule.step();
        }
    }

    @Test
    void peaksAtTheBaseRateAfterWarmup() {
        Tensor w = Tensor.zeros(2).requiresGrad(true);
        SGD sgd = new SGD(List.of(w), 1e-3);
        LRScheduler schedule = LRScheduler.inverseSqrt(sgd, 10);
        assertEquals(1e-4, sgd.lr(), 1e-15); // the first step: 1/10 of the peak
        for (int i = 0; i < 9; i++) {
            schedule.step();
        }
        assertEquals(1e-3, sgd.lr(), 1e-15);
        for (int i = 0; i < 30; i++) {
            schedule.step();
        }
        assertEquals(1e-3 * Math.sqrt(10 / 40.0), sgd.lr(), 1e-15);
        assertThrows(IllegalArgumentException.class, () -> LRScheduler.inverseSqrt(sgd, 0));
    }
}
