package dev.backprop.data;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A reproducible train/test split of a list by a hash of each item's key, as for held-out sentence
 * pairs: an item goes to the test side when {@code hash(seed, key)} mapped to [0, 1) is below the
 * test fraction.
 *
 * <p>Unlike a shuffle, an item's side depends only on its key and the seed: not on the order of
 * the file, nor on what else is in it, so adding data never moves an old test item into training;
 * and items with equal keys (the same source sentence with two translations) always land on the
 * same side, so the test set does not leak into training. The test side holds about, not
 * exactly, {@code testFraction} of the items.
 *
 * <p>The hash is 64-bit FNV-1a over the key's UTF-16 code units, then mixed with the seed by
 * SplitMix64's finaliser, the top 53 bits giving the number in [0, 1): the same on every JVM.
 */
public final class HoldOut {
    private HoldOut() {}

    /**
     * The two sides of a split, each in the original order.
     *
     * @param train the items kept for training
     * @param test the held-out items
     * @param <T> the item type
     */
    public record Split<T>(List<T> train, List<T> test) {
        /** Copies the lists. */
        public Split {
            train = List.copyOf(train);
            test = List.copyOf(test);
        }
    }

    /**
     * Splits items by their keys.
     *
     * @param key the text that decides an item's side (equal keys, equal sides)
     * @param testFraction the expected share of the test side, in [0, 1]
     * @throws IllegalArgumentException if the fraction is outside [0, 1]
     */
    public static <T> Split<T> split(List<T> items, Function<? super T, String> key, double testFraction, long seed) {
        checkFraction(testFraction);
        List<T> train = new ArrayList<>();
        List<T> test = new ArrayList<>();
        for (T item : items) {
            (isTest(key.apply(item), testFraction, seed) ? test : train).add(item);
        }
        return new Split<>(train, test);
    }

    /** Whether an item with this key is on the test side. */
    public static boolean isTest(String key, double testFraction, long seed) {
        checkFraction(testFraction);
        return unit(key, seed) < testFraction;
    }

    /** The key's number in [0, 1) for this seed. */
    static double unit(String key, long seed) {
        long h = 0xCBF29CE484222325L;
        for (int i = 0; i < key.length(); i++) {
            h = (h ^ key.charAt(i)) * 0x100000001B3L;
        }
        long z = h ^ (seed * 0x9E3779B97F4A7C15L);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        z ^= z >>> 31;
        return (z >>> 11) * 0x1.0p-53;
    }

    private static void checkFraction(double f) {
        if (!(f >= 0 && f <= 1)) {
            throw new IllegalArgumentException("the test fraction must lie in [0, 1], got " + f);
        }
    }
}
