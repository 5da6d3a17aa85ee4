package dev.backprop.optim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@link LRScheduler#linearWarmupCosineDecay} against nanoGPT's get_lr as written in quality.py (Q2). */
class WarmupCosineDecayTest {

    /** quality.py's get_lr, transcribed: iters 2000, warmup 100, lr_max 1e-3, lr_min 1e-4. */
    private static double getLr(int it) {
        int iters = 2000;
        int warmup = 100;
        double lrMax = 1e-3;
        double lrMin = 1e-4;
        if (it < warmup) {
            return lrMax * (it + 1) / (warmup + 1);
        }
        double ratio = (double) (it - warmup) / (iters - warmup);
        return lrMin + 0.5 * (1.0 + Math.cos(Math.PI * Math.min(ratio, 1.0))) * (lrMax - lrMin);
    }

    private static Optimizer optimizer() {
        return new AdamW(List.of(Tensor.zeros(2).requiresGrad(true)), 1e-3, 0.9, 0.99, 1e-8, 0.1);
    }

    @Test
    void everyIterationFollowsGetLr() {
        Optimizer o = optimizer();
        LRScheduler s = LRScheduler.linearWarmupCosineDecay(o, 100, 2000, 1e-4);
        Optimizer o2 = optimizer();
        LRScheduler sequential = LRScheduler.warmupCosine(o2, 100, 2000, 1.0 / 101, 1e-4);
        for (int it = 0; it <= 2100; it++) { // the learning rate of iteration `it` is set before its step
            assertEquals(getLr(it), o.lr(), 1e-15, "iteration " + it);
            if (it <= 2000) {
                assertEquals(o.lr(), o2.lr(), 1e-12, "the same as warmupCosine up to the last iteration, at " + it);
            }
            s.step();
            sequential.step();
        }
        assertEquals(1e-3 / 101, getLr(0), 1e-18);
        assertEquals(1e-4, getLr(2050), 1e-18, "held at lr_min after the decay");
    }

    @Test
    void resumesFromItsStepCounterAndChecksItsArguments() {
        Optimizer o = optimizer();
        LRScheduler s = LRScheduler.linearWarmupCosineDecay(o, 10, 50, 1e-5);
        for (int i = 0; i < 17; i++) {
            s.step();
        }
        Map<String, String> state = s.state();
        Optimizer o2 = optimizer();
        LRScheduler t = LRScheduler.linearWarmupCosineDecay(o2, 10, 50, 1e-5);
        t.loadState(state);
        assertEquals(o.lr(), o2.lr(), 0);
        assertThrows(IllegalArgumentException.class, () -> LRScheduler.linearWarmupCosineDecay(optimizer(), 10, 10, 0));
        assertThrows(IllegalArgumentException.class, () -> LRScheduler.linearWarmupCosineDecay(optimizer(), -1, 10, 0));
        LRScheduler noWarmup = LRScheduler.linearWarmupCosineDecay(optimizer(), 0, 10, 0);
        assertEquals(1e-3, noWarmup.lastLr().get(0), 1e-15);
    }
}
