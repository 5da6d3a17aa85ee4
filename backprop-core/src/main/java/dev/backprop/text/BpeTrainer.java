package dev.backprop.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Learns byte-level BPE merges (see {@link BpeTokenizer}'s class comment for the rules).
 *
 * <p>The corpus is reduced to its distinct pieces with their counts ("words"). Pair counts are
 * kept up to date incrementally: merging a pair only touches the words that contain it (an index
 * from pair to words, which may hold words that no longer contain the pair: they are checked),
 * and in each such word the counts of its old pairs are taken away and those of its new pairs
 * added. The most frequent pair comes from a heap whose stale entries (the count changed since)
 * are skipped when they surface.
 */
final class BpeTrainer {
    private BpeTrainer() {}

    /** The merges as {@code {lefts, rights}}, at most {@code maxMerges}. */
    static int[][] learn(Iterable<String> texts, Pattern pattern, int maxMerges) {
        Map<String, long[]> pieceCounts = new HashMap<>();
        for (String text : texts) {
            BpeTokenizer.forEachPiece(pattern, text, (start, end) ->
                    pieceCounts.computeIfAbsent(text.substring(start, end), _ -> new long[1])[0]++);
        }
        int numWords = pieceCounts.size();
        int[][] syms = new int[numWords][];
        int[] len = new int[numWords];
        long[] freq = new long[numWords];
        int w = 0;
        for (Map.Entry<String, long[]> e : pieceCounts.entrySet()) {
            IntList bytes = new IntList(e.getKey().length() * 2);
            Wtf8.encode(e.getKey(), 0, e.getKey().length(), bytes);
            syms[w] = bytes.toArray();
            len[w] = syms[w].length;
            freq[w] = e.getValue()[0];
            w++;
        }

        LongLongMap counts = new LongLongMap(1 << 16);
        LongLongMap whereIndex = new LongLongMap(1 << 16); // pair -> index in where
        List<IntList> where = new ArrayList<>();
        for (w = 0; w < numWords; w++) {
            for (int i = 0; i + 1 < len[w]; i++) {
                long key = LongLongMap.pair(syms[w][i], syms[w][i + 1]);
                counts.add(key, freq[w]);
                addWhere(whereIndex, where, key, w);
            }
        }
        CandidateHeap heap = new CandidateHeap(Math.max(16, where.size()));
        counts.forEachKey(key -> heap.push(counts.get(key, 0), key));

        IntList lefts = new IntList(Math.max(0, maxMerges));
        IntList rights = new IntList(Math.max(0, maxMerges));
        int[] stamp = new int[numWords];
        Arrays.fill(stamp, -1);
        for (int m = 0; m < maxMerges; m++) {
            long best = -1;
            while (!heap.isEmpty()) {
                long count = heap.topCount();
                long key = heap.topKey();
                heap.pop();
                if (count > 0 && counts.get(key, 0) == count) {
                    best = key;
                    break;
                }
            }
            if (best < 0) {
                break; // no pair left: every piece is one token
            }
            int a = LongLongMap.left(best);
            int b = LongLongMap.right(best);
            int merged = BpeTokenizer.NUM_BYTES + m;
            lefts.add(a);
            rights.add(b);
            LongLongMap before = new LongLongMap(64); // count of each touched pair before this merge
            List<Long> touched = new ArrayList<>();
            IntList words = where.get((int) whereIndex.get(best, -1));
            for (int j = 0; j < words.size(); j++) {
                w = words.get(j);
                if (stamp[w] == m) {
                    continue;
                }
                stamp[w] = m;
                int[] s = syms[w];
                int n = len[w];
                if (!contains(s, n, a, b)) {
                    continue; // an older entry: the pair was merged away in this word
                }
                long f = freq[w];
                for (int i = 0; i + 1 < n; i++) {
                    long key = LongLongMap.pair(s[i], s[i + 1]);
                    if (before.get(key, -1) < 0) {
                        before.put(key, counts.get(key, 0));
                        touched.add(key);
                    }
                    counts.add(key, -f);
                }
                int out = 0;
                for (int i = 0; i < n; ) {
                    if (i + 1 < n && s[i] == a && s[i + 1] == b) {
                        s[out++] = merged;
                        i += 2;
                    } else {
                        s[out++] = s[i++];
                    }
                }
                len[w] = out;
                for (int i = 0; i + 1 < out; i++) {
                    long key = LongLongMap.pair(s[i], s[i + 1]);
                    if (before.get(key, -1) < 0) {
                        before.put(key, counts.get(key, 0));
                        touched.add(key);
                    }
                    counts.add(key, f);
                    if (s[i] == merged || s[i + 1] == merged) {
                        addWhere(whereIndex, where, key, w);
                    }
                }
            }
            counts.put(best, 0);
            for (long key : touched) {
                long now = counts.get(key, 0);
                if (now > 0 && now != before.get(key, -1)) {
                    heap.push(now, key);
                }
            }
        }
        return new int[][] {lefts.toArray(), rights.toArray()};
    }

    private static boolean contains(int[] s, int n, int a, int b) {
        for (int i = 0; i + 1 < n; i++) {
            if (s[i] == a && s[i + 1] == b) {
                return true;
            }
        }
        return false;
    }

    /** Records that word {@code w} contains {@code key} (once per run of the same word). */
    private static void addWhere(LongLongMap whereIndex, List<IntList> where, long key, int w) {
        long idx = whereIndex.get(key, -1);
        if (idx < 0) {
            idx = where.size();
            where.add(new IntList(4));
            whereIndex.put(key, idx);
        }
        IntList list = where.get((int) idx);
        if (list.size() == 0 || list.get(list.size() - 1) != w) {
            list.add(w);
        }
    }

    /** A max-heap of (count, pair): the highest count first, then the smallest pair. */
    static final class CandidateHeap {
        private long[] counts;
        private long[] keys;
        private int size;

        CandidateHeap(int capacity) {
            counts = new long[capacity];
            keys = new long[capacity];
        }

        boolean isEmpty() {
            return size == 0;
        }

        long topCount() {
            return counts[0];
        }

        long topKey() {
            return keys[0];
        }

        /** Whether (c1, k1) comes out before (c2, k2). */
        private static boolean before(long c1, long k1, long c2, long k2) {
            return c1 > c2 || (c1 == c2 && k1 < k2);
        }

        void push(long count, long key) {
            if (size == counts.length) {
                counts = Arrays.copyOf(counts, size * 2);
                keys = Arrays.copyOf(keys, size * 2);
            }
            int i = size++;
            while (i > 0) {
                int parent = (i - 1) >>> 1;
                if (!before(count, key, counts[parent], keys[parent])) {
                    break;
                }
                counts[i] = counts[parent];
                keys[i] = keys[parent];
                i = parent;
            }
            counts[i] = count;
            keys[i] = key;
        }

        void pop() {
            long lastCount = counts[--size];
            long lastKey = keys[size];
            int i = 0;
            while (true) {
                int child = 2 * i + 1;
                if (child >= size) {
                    break;
                }
                if (child + 1 < size && before(counts[child + 1], keys[child + 1], counts[child], keys[child])) {
                    child++;
                }
                if (!before(counts[child], keys[child], lastCount, lastKey)) {
                    break;
                }
                counts[i] = counts[child];
                keys[i] = keys[child];
                i = child;
            }
            if (size > 0) {
                counts[i] = lastCount;
                keys[i] = lastKey;
            }
        }
    }
}
