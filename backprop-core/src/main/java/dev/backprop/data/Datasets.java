package dev.backprop.data;

import dev.backprop.tensor.Generator;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;

/** Helpers over data sets: random permutations and splits. */
public final class Datasets {
    private Datasets() {}

    /**
     * A uniformly random permutation of {@code 0 .. n-1} (Fisher-Yates), the same for the same
     * generator state on every machine.
     */
    public static int[] permutation(int n, Generator gen) {
        if (n < 0) {
            throw new IllegalArgumentException("permutation: n must be non-negative, got " + n);
        }
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = gen.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    /**
     * Splits a data set into non-overlapping random subsets of the given sizes, like PyTorch's
     * {@code random_split}: one permutation of all the examples, cut into consecutive pieces.
     * Deterministic for a given generator state: pass {@code new Generator(seed)}.
     *
     * @param lengths the subset sizes; they must add up to {@code dataset.size()}
     */
    public static List<Subset> randomSplit(Dataset dataset, int[] lengths, Generator gen) {
        Objects.requireNonNull(dataset, "dataset");
        Objects.requireNonNull(gen, "gen");
        long total = 0;
        for (int length : lengths) {
            if (length < 0) {
                throw new IllegalArgumentException("randomSplit: negative length in " + Arrays.toString(lengths));
            }
            total += length;
        }
        if (total != dataset.size()) {
            throw new IllegalArgumentException("randomSplit: lengths " + Arrays.toString(lengths) + " add up to "
                    + total + " but the data set has " + dataset.size() + " examples");
        }
        int[] perm = permutation(dataset.size(), gen);
        List<Subset> parts = new ArrayList<>(lengths.length);
        int start = 0;
        for (int length : lengths) {
            parts.add(new Subset(dataset, Arrays.copyOfRange(perm, start, start + length)));
            start += length;
        }
        return List.copyOf(parts);
    }

    /**
     * Splits a data set by fractions, like PyTorch's {@code random_split} with fractions: each
     * subset gets {@code floor(fraction * size)} examples, and the remainder is dealt one at a
     * time to the subsets in order.
     *
     * @param fractions non-negative, adding up to 1 (within 1e-6)
     */
    public static List<Subset> randomSplit(Dataset dataset, double[] fractions, Generator gen) {
        return randomSplit(dataset, lengths(dataset.size(), fractions), gen);
    }

    /**
     * The subset sizes for fractions of {@code n} examples, as
     * {@link #randomSplit(Dataset, double[], Generator)} cuts them.
     */
    public static int[] lengths(int n, double[] fractions) {
        double sum = 0;
        for (double f : fractions) {
            if (!(f >= 0 && f <= 1)) {
                throw new IllegalArgumentException("randomSplit: fractions must lie in [0, 1], got "
                        + Arrays.toString(fractions));
            }
            sum += f;
        }
        if (fractions.length == 0 || Math.abs(sum - 1) > 1e-6) {
            throw new IllegalArgumentException("randomSplit: fractions must add up to 1, got "
                    + Arrays.toString(fractions) + " (sum " + sum + ")");
        }
        int[] lengths = new int[fractions.length];
        int assigned = 0;
        for (int i = 0; i < fractions.length; i++) {
            lengths[i] = (int) Math.floor(n * fractions[i]);
            assigned += lengths[i];
        }
        for (int i = 0; assigned < n; i = (i + 1) % lengths.length) {
            lengths[i]++;
            assigned++;
        }
        // fractions a hair over 1 in total can overshoot on huge n: take the excess from the end
        for (int i = lengths.length - 1; assigned > n; i = (i + lengths.length - 1) % lengths.length) {
            if (lengths[i] > 0) {
                lengths[i]--;
                assigned--;
            }
        }
        return lengths;
    }
}
