package dev.backprop.cli;

/** The {@code --threads} option: how many threads the compute kernels use. */
final class Threads {
    private static int current = Runtime.getRuntime().availableProcessors();

    private Threads() {}

    static void apply(Integer threads) {
        if (threads != null) {
            if (threads < 1) {
                throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            }
            current = threads;
        }
    }

    static int current() {
        return current;
    }
}
