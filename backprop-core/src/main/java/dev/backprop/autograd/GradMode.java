package dev.backprop.autograd;

import java.util.function.Supplier;

/**
 * Whether ops record the graph (per thread). Inside {@link #noGrad()} nothing is recorded, so a
 * forward pass keeps no intermediate values alive and skips the bookkeeping: use it for inference
 * and for parameter updates.
 *
 * <pre>{@code
 * try (var ignored = GradMode.noGrad()) {
 *     Tensor logits = model.forward(x);
 * }
 * }</pre>
 */
public final class GradMode {
    private static final ThreadLocal<boolean[]> ENABLED = ThreadLocal.withInitial(() -> new boolean[] {true});

    private GradMode() {}

    /** Whether ops on this thread record the graph. */
    public static boolean isEnabled() {
        return ENABLED.get()[0];
    }

    /** Turns recording off until the returned scope is closed (restores the previous state). */
    public static Scope noGrad() {
        return set(false);
    }

    /** Turns recording on until the returned scope is closed (inside a no-grad region). */
    public static Scope enableGrad() {
        return set(true);
    }

    /** Runs {@code body} without recording and returns its result. */
    public static <T> T noGrad(Supplier<T> body) {
        try (Scope ignored = noGrad()) {
            return body.get();
        }
    }

    private static Scope set(boolean value) {
        boolean[] state = ENABLED.get();
        boolean previous = state[0];
        state[0] = value;
        return () -> state[0] = previous;
    }

    /** A region with a grad mode; closing it restores the mode that was in force before. */
    @FunctionalInterface
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }
}
