package dev.backprop.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class KernelPoolTest {

    @Test
    void runsEveryPartOnceAndWaitsForAll() {
        int before = Kernels.threads();
        try {
            for (int threads : new int[] {1, 2, 4}) {
                Kernels.setThreads(threads);
                AtomicIntegerArray seen = new AtomicIntegerArray(7);
                KernelPool.run(7, part -> {
                    sleep(part % 3);
                    seen.incrementAndGet(part);
                });
                for (int p = 0; p < 7; p++) {
                    assertEquals(1, seen.get(p), "part " + p + " on " + threads + " threads");
                }
            }
        } finally {
            Kernels.setThreads(before);
        }
    }

    @Test
    void rethrowsAFailingPartAfterTheOthersFinish() {
        int before = Kernels.threads();
        try {
            Kernels.setThreads(3);
            IllegalStateException boom = new IllegalStateException("part 2 failed");
            AtomicIntegerArray done = new AtomicIntegerArray(3);
            IllegalStateException thrown = assertThrows(IllegalStateException.class, () -> KernelPool.run(3, part -> {
                if (part == 2) {
                    throw boom;
                }
                sleep(5);
                done.set(part, 1);
            }));
            assertSame(boom, thrown);
            assertEquals(1, done.get(0));
            assertEquals(1, done.get(1));
        } finally {
            Kernels.setThreads(before);
        }
    }

    private static void sleep(int millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
