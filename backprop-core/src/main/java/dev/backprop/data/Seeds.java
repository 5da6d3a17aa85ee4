package dev.backprop.data;

/**
 * Derives independent seeds from a base seed and a few coordinates (epoch, batch index, example
 * index), so that every random draw of the data pipeline is a pure function of where it happens:
 * a resumed run, a prefetching loader and a parallel generator all draw the same numbers.
 */
final class Seeds {
    /** Coordinate tags, so that the shuffle of epoch 3 and the augmentation of batch 3 differ. */
    static final long SHUFFLE = 0x5348_5546L;
    static final long TRANSFORM = 0x5452_414EL;
    static final long SYNTHETIC = 0x5359_4E54L;
    static final long WINDOW = 0x5749_4E44L;

    private Seeds() {}

    /** A seed for {@code new Generator(...)} that depends on {@code seed} and every part, in order. */
    static long derive(long seed, long... parts) {
        long h = mix(seed + 0x9E3779B97F4A7C15L);
        for (long p : parts) {
            h = mix(h ^ mix(p + 0x632BE59BD9B4E019L));
        }
        return h;
    }

    /** SplitMix64's finaliser: a bijection that scatters nearby inputs. */
    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
