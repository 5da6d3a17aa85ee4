package dev.backprop.autograd;

/**
 * Raised in {@link Anomaly anomaly mode} at the first NaN or infinity an op produces, in the
 * forward or the backward pass. The message names the op, the pass, the first bad position and
 * the line of user code that called the op in forward.
 */
public final class NonFiniteValueException extends ArithmeticException {
    private final String op;
    private final boolean backward;
    private final StackTraceElement callSite;

    public NonFiniteValueException(String message, String op, boolean backward, StackTraceElement callSite) {
        super(message);
        this.op = op;
        this.backward = backward;
        this.callSite = callSite;
    }

    /** The op that produced the value, for example {@code log}. */
    public String op() {
        return op;
    }

    /** True when the value appeared while computing gradients. */
    public boolean inBackward() {
        return backward;
    }

    /** Where user code called the op in forward, or null if unknown. */
    public StackTraceElement callSite() {
        return callSite;
    }
}
