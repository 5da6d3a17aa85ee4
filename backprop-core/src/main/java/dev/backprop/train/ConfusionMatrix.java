package dev.backprop.train;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Counts of (true class, predicted class) pairs, with accuracy and per-class precision, recall
 * and F1 derived from them. Rows are true classes, columns predictions.
 */
public final class ConfusionMatrix {
    private final int numClasses;
    private final long[][] counts;
    private final List<String> labels;

    public ConfusionMatrix(int numClasses) {
        this(numClasses, null);
    }

    /** @param labels class names for printing, or null for 0..C-1 */
    public ConfusionMatrix(int numClasses, List<String> labels) {
        if (numClasses <= 0) {
            throw new IllegalArgumentException("a confusion matrix needs at least one class, got " + numClasses);
        }
        if (labels != null && labels.size() != numClasses) {
            throw new IllegalArgumentException(numClasses + " classes but " + labels.size() + " labels");
        }
        this.numClasses = numClasses;
        this.counts = new long[numClasses][numClasses];
        this.labels = labels == null ? null : List.copyOf(labels);
    }

    /** Adds a batch: logits or scores (N, C) (argmax taken) and int64 targets (N). */
    public void add(Tensor scores, Tensor targets) {
        if (scores.dim() != 2 || scores.size(1) != numClasses) {
            throw new IllegalArgumentException("confusion matrix: expected scores (N, " + numClasses + "), got "
                    + Shape.str(scores.shape()));
        }
        addPredictions(scores.argmax(1, false), targets);
    }

    /** Adds int64 predicted classes (N) against int64 targets (N). */
    public void addPredictions(Tensor predicted, Tensor targets) {
        predicted.requireType(DType.INT64, "confusion matrix (predictions)");
        targets.requireType(DType.INT64, "confusion matrix (targets)");
        long[] p = predicted.toLongArray();
        long[] t = targets.toLongArray();
        if (p.length != t.length) {
            throw new IllegalArgumentException("confusion matrix: " + p.length + " predictions for " + t.length
                    + " targets");
        }
        for (int i = 0; i < p.length; i++) {
            if (t[i] < 0 || t[i] >= numClasses || p[i] < 0 || p[i] >= numClasses) {
                throw new IndexOutOfBoundsException("confusion matrix: class " + (t[i] < 0 || t[i] >= numClasses
                        ? t[i] : p[i]) + " at position " + i + " is outside 0.." + (numClasses - 1));
            }
            counts[(int) t[i]][(int) p[i]]++;
        }
    }

    public int numClasses() {
        return numClasses;
    }

    public long count(int trueClass, int predicted) {
        return counts[trueClass][predicted];
    }

    public long total() {
        long n = 0;
        for (long[] row : counts) {
            for (long c : row) {
                n += c;
            }
        }
        return n;
    }

    public double accuracy() {
        long correct = 0;
        for (int i = 0; i < numClasses; i++) {
            correct += counts[i][i];
        }
        long n = total();
        return n == 0 ? Double.NaN : (double) correct / n;
    }

    /** Of the examples predicted as class c, the fraction that are c (0 when none predicted). */
    public double precision(int c) {
        long predicted = 0;
        for (int i = 0; i < numClasses; i++) {
            predicted += counts[i][c];
        }
        return predicted == 0 ? 0 : (double) counts[c][c] / predicted;
    }

    /** Of the examples of class c, the fraction predicted as c (0 when the class is absent). */
    public double recall(int c) {
        long actual = 0;
        for (int j = 0; j < numClasses; j++) {
            actual += counts[c][j];
        }
        return actual == 0 ? 0 : (double) counts[c][c] / actual;
    }

    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /** Unweighted mean of the per-class F1 scores. */
    public double macroF1() {
        double s = 0;
        for (int c = 0; c < numClasses; c++) {
            s += f1(c);
        }
        return s / numClasses;
    }

    /** The counts as a (C, C) array copy. */
    public long[][] counts() {
        long[][] out = new long[numClasses][];
        for (int i = 0; i < numClasses; i++) {
            out[i] = counts[i].clone();
        }
        return out;
    }

    /** A copy that prints class names. */
    public ConfusionMatrix withLabels(List<String> names) {
        ConfusionMatrix m = new ConfusionMatrix(numClasses, names);
        for (int i = 0; i < numClasses; i++) {
            System.arraycopy(counts[i], 0, m.counts[i], 0, numClasses);
        }
        return m;
    }

    public String label(int c) {
        return labels == null ? Integer.toString(c) : labels.get(c);
    }

    /** The pairs of distinct classes confused most often, as "true → predicted: count". */
    public List<String> mostConfused(int limit) {
        List<long[]> pairs = new ArrayList<>();
        for (int i = 0; i < numClasses; i++) {
            for (int j = 0; j < numClasses; j++) {
                if (i != j && counts[i][j] > 0) {
                    pairs.add(new long[] {counts[i][j], i, j});
                }
            }
        }
        pairs.sort((a, b) -> Long.compare(b[0], a[0]));
        List<String> out = new ArrayList<>();
        for (long[] p : pairs.subList(0, Math.min(limit, pairs.size()))) {
            out.add(label((int) p[1]) + " → " + label((int) p[2]) + ": " + p[0]);
        }
        return out;
    }

    /** Per-class precision, recall, F1 and support, then accuracy and macro F1, as a text table. */
    public String report() {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-20s %9s %9s %9s %9s%n", "class",
                "precision", "recall", "f1", "support"));
        for (int c = 0; c < numClasses; c++) {
            long support = 0;
            for (int j = 0; j < numClasses; j++) {
                support += counts[c][j];
            }
            sb.append(String.format(Locale.ROOT, "%-20s %9.4f %9.4f %9.4f %9d%n", label(c), precision(c), recall(c),
                    f1(c), support));
        }
        sb.append(String.format(Locale.ROOT, "accuracy %.4f, macro F1 %.4f over %d examples%n", accuracy(), macroF1(),
                total()));
        return sb.toString();
    }
}
