package dev.backprop.tensor;

import java.util.Locale;

/**
 * The memory this program may use for tensors, so that a model or batch that cannot fit is refused
 * up front, with the size it needed, instead of failing later with an {@link OutOfMemoryError}.
 *
 * <p>The budget is the system property {@code backprop.memory.budget} ({@code 4g}, {@code 512m},
 * {@code 1500000000}; {@code backprop train --memory-budget 4g} sets it), or {@link #set(long)};
 * by default the JVM's maximum heap ({@code -Xmx}, {@link Runtime#maxMemory()}). It is checked:
 * <ul>
 *   <li>by every tensor allocation of {@link Tensor#empty}, {@link Tensor#zeros} and the copies
 *       that make a tensor contiguous: one tensor larger than the budget is refused before its
 *       array is allocated;</li>
 *   <li>by {@link dev.backprop.train.Trainer#fit}, which estimates what training needs (weights,
 *       gradients, optimizer state, and the activations of one batch, measured on a small one)
 *       and refuses to start when it exceeds the budget.</li>
 * </ul>
 */
public final class MemoryBudget {
    /** The system property that sets the budget. */
    public static final String PROPERTY = "backprop.memory.budget";

    private static volatile long budget = fromProperty();

    private MemoryBudget() {}

    private static long fromProperty() {
        String v = System.getProperty(PROPERTY);
        if (v == null || v.isBlank()) {
            return 0;
        }
        try {
            return parse(v);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("-D" + PROPERTY + "=" + v + ": " + e.getMessage(), e);
        }
    }

    /** The budget in bytes: the one set, else the JVM's maximum heap. */
    public static long bytes() {
        long b = budget;
        return b > 0 ? b : Runtime.getRuntime().maxMemory();
    }

    /** Sets the budget in bytes; 0 goes back to the JVM's maximum heap. */
    public static void set(long bytes) {
        if (bytes < 0) {
            throw new IllegalArgumentException("a memory budget cannot be negative, got " + bytes);
        }
        budget = bytes;
    }

    /**
     * Parses a size: a number of bytes, or a number with a unit {@code k}, {@code m}, {@code g} or
     * {@code t} (powers of 1024, as -Xmx reads them; {@code kb}, {@code mib} and so on too).
     *
     * @throws IllegalArgumentException if it is not such a size
     */
    public static long parse(String size) {
        String s = size.strip().toLowerCase(Locale.ROOT).replace("ib", "").replace("b", "");
        long unit = 1;
        if (!s.isEmpty()) {
            switch (s.charAt(s.length() - 1)) {
                case 'k' -> unit = 1L << 10;
                case 'm' -> unit = 1L << 20;
                case 'g' -> unit = 1L << 30;
                case 't' -> unit = 1L << 40;
                default -> unit = 1;
            }
            if (unit > 1) {
                s = s.substring(0, s.length() - 1).strip();
            }
        }
        try {
            double v = Double.parseDouble(s);
            if (!(v > 0) || v * unit > Long.MAX_VALUE) {
                throw new NumberFormatException();
            }
            return (long) (v * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("expected a memory size such as 4g, 512m or 1500000000, found '" + size
                    + "'");
        }
    }

    /** Bytes in words: {@code 1.5 GiB}. */
    public static String format(long bytes) {
        if (bytes < 1024) {
            return bytes + " bytes";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB", "PiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }

    /**
     * Refuses {@code bytes} of {@code what} if it exceeds the budget.
     *
     * @throws MemoryBudgetException saying what needed how much and what the budget is
     */
    public static void check(long bytes, String what) {
        long b = bytes();
        if (bytes > b) {
            throw new MemoryBudgetException(what + " needs " + format(bytes) + " (" + bytes + " bytes), more than the "
                    + "memory budget of " + format(b) + "; " + HOW_TO);
        }
    }

    static final String HOW_TO = "make it smaller (a smaller batch or model), or raise the budget: -D" + PROPERTY
            + "=SIZE or backprop train --memory-budget SIZE, within the JVM's heap (-Xmx, now "
            + format(Runtime.getRuntime().maxMemory()) + ")";

    /** Checks one tensor of {@code numel} elements before it is allocated. */
    static void checkTensor(DType dtype, long numel, int[] shape) {
        long bytes = numel * dtype.byteSize();
        if (bytes > (1 << 20) && bytes > bytes()) {
            check(bytes, "a " + dtype.torchName() + " tensor of shape " + Shape.str(shape));
        }
    }
}
