package dev.backprop.cli;

import dev.backprop.kernels.Kernels;

/** The {@code --threads} option: how many threads the compute kernels use. */
final class Threads {
    private Threads() {}

    static void apply(Integer threads) {
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            }
            Kernels.setThreads(threads);
        }
    }

    static int current() {
        return Kernels.threads();
    }
}
