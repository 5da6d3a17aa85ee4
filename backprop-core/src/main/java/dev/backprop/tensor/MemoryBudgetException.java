package dev.backprop.tensor;

/**
 * A tensor, a model or a training run needs more memory than the {@link MemoryBudget} allows; the
 * message says what, how much it needed and what the budget is. Thrown before the memory is
 * allocated.
 */
public final class MemoryBudgetException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public MemoryBudgetException(String message) {
        super(message);
    }

    public MemoryBudgetException(String message, Throwable cause) {
        super(message, cause);
    }
}
