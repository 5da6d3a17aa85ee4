package dev.backprop.text;

import java.util.Arrays;

/**
 * An open-addressing hash map from long to long (linear probing, no boxing), for BPE's pair
 * counts and merge ranks keyed by a packed pair {@code (left << 32) | right}. Keys must not be
 * {@link Long#MIN_VALUE}, which marks a free slot.
 */
final class LongLongMap {
    private static final long FREE = Long.MIN_VALUE;

    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    LongLongMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(16, expected * 2 - 1)) << 1;
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, FREE);
        mask = capacity - 1;
    }

    /** The packed key of a pair of non-negative ids; orders pairs by left id, then right id. */
    static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFF_FFFFL);
    }

    static int left(long pair) {
        return (int) (pair >>> 32);
    }

    static int right(long pair) {
        return (int) pair;
    }

    int size() {
        return size;
    }

    /** The value of {@code key}, or {@code missing}. */
    long get(long key, long missing) {
        int i = slot(key);
        return keys[i] == key ? values[i] : missing;
    }

    void put(long key, long value) {
        int i = slot(key);
        if (keys[i] != key) {
            keys[i] = key;
            if (++size * 2 > keys.length) {
                values[i] = value;
                grow();
                return;
            }
        }
        values[i] = value;
    }

    /** Adds {@code delta} to the value of {@code key} (0 when absent) and returns the sum. */
    long add(long key, long delta) {
        int i = slot(key);
        if (keys[i] != key) {
            put(key, delta);
            return delta;
        }
        return values[i] += delta;
    }

    /** Calls {@code action} with every key, in table order. */
    void forEachKey(java.util.function.LongConsumer action) {
        for (long k : keys) {
            if (k != FREE) {
                action.accept(k);
            }
        }
    }

    /** The slot holding {@code key}, or the free slot where it would go. */
    private int slot(long key) {
        int i = (int) mix(key) & mask;
        while (keys[i] != FREE && keys[i] != key) {
            i = (i + 1) & mask;
        }
        return i;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, FREE);
        mask = keys.length - 1;
        for (int j = 0; j < oldKeys.length; j++) {
            if (oldKeys[j] != FREE) {
                int i = slot(oldKeys[j]);
                keys[i] = oldKeys[j];
                values[i] = oldValues[j];
            }
        }
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 33)) * 0xFF51AFD7ED558CCDL;
        z = (z ^ (z >>> 33)) * 0xC4CEB9FE1A85EC53L;
        return z ^ (z >>> 33);
    }
}
