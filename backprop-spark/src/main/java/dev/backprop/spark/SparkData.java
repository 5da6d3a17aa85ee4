package dev.backprop.spark;

import dev.backprop.data.Batch;
import dev.backprop.data.Dataset;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * Training data as Spark holds it: an RDD of {@link ExampleBlock}s, one block per partition. Made
 * from an RDD of {@link Example}s, from text files Spark can read (CSV, on any file system Spark
 * knows: local, HDFS, S3), or from an in-memory backprop {@link Dataset}.
 */
public final class SparkData {
    private SparkData() {}

    /**
     * The examples of each partition of {@code examples} packed into one block (the partitioning
     * is kept: repartition the RDD first to choose how many shards train in parallel).
     *
     * @param inputShape the shape of one example's inputs, e.g. {@code {1, 28, 28}}
     */
    public static JavaRDD<ExampleBlock> fromExamples(JavaRDD<Example> examples, int[] inputShape) {
        int[] shape = inputShape.clone();
        return examples.mapPartitionsWithIndex((p, it) -> List.of(pack(p, it, shape)).iterator(), true);
    }

    private static ExampleBlock pack(int partition, Iterator<Example> it, int[] shape) {
        int row = 1;
        for (int d : shape) {
            row *= d;
        }
        List<Example> rows = new ArrayList<>();
        it.forEachRemaining(rows::add);
        boolean classification = rows.isEmpty() || rows.get(0).classification();
        float[] x = new float[rows.size() * row];
        long[] labels = classification ? new long[rows.size()] : null;
        float[] values = classification ? null : new float[rows.size()];
        for (int i = 0; i < rows.size(); i++) {
            Example e = rows.get(i);
            if (e.features().length != row) {
                throw new IllegalArgumentException(String.format(Locale.ROOT, "partition %d, example %d: expected %d "
                        + "features (input shape %s), got %d", partition, i, row, java.util.Arrays.toString(shape),
                        e.features().length));
            }
            if (e.classification() != classification) {
                throw new IllegalArgumentException("partition " + partition + ", example " + i + ": mixes class labels "
                        + "and numeric targets; every example must have the same kind of target");
            }
            System.arraycopy(e.features(), 0, x, i * row, row);
            if (classification) {
                labels[i] = e.label();
            } else {
                values[i] = e.value();
            }
        }
        return new ExampleBlock(shape, x, labels, values);
    }

    /**
     * A backprop data set spread over {@code partitions} blocks: the examples are shuffled once with
     * {@code seed} (so that every shard sees every class) and cut into nearly equal contiguous
     * parts. The blocks are sent to the executors once and kept in their memory (a local
     * checkpoint): a failed task is retried from them, but an executor that is lost takes its block
     * along (read the data from files, {@link #csv}, where executors may come and go).
     */
    public static JavaRDD<ExampleBlock> fromDataset(JavaSparkContext sc, Dataset data, int partitions, long seed) {
        if (partitions < 1) {
            throw new IllegalArgumentException("partitions must be >= 1, got " + partitions);
        }
        if (data.size() < partitions) {
            throw new IllegalArgumentException("cannot spread " + data.size() + " examples over " + partitions
                    + " partitions; use fewer partitions");
        }
        int n = data.size();
        int[] perm = permutation(n, new Generator(seed));
        // each block travels as a broadcast (in pieces, fetched by the executor that needs it): a task is
        // limited to spark.rpc.message.maxSize (128 MiB) and would carry its slice of parallelize() on every
        // step; the blocks are then cached on the executors and the lineage cut
        List<org.apache.spark.broadcast.Broadcast<ExampleBlock>> shipped = new ArrayList<>(partitions);
        for (int p = 0; p < partitions; p++) {
            int from = (int) ((long) n * p / partitions);
            int to = (int) ((long) n * (p + 1) / partitions);
            shipped.add(sc.broadcast(block(data.get(java.util.Arrays.copyOfRange(perm, from, to)), data.inputShape())));
        }
        List<Integer> indices = new ArrayList<>();
        for (int p = 0; p < partitions; p++) {
            indices.add(p);
        }
        JavaRDD<ExampleBlock> rdd = sc.parallelize(indices, partitions).map(p -> shipped.get(p).value());
        rdd.persist(org.apache.spark.storage.StorageLevel.MEMORY_ONLY());
        rdd.rdd().localCheckpoint();
        rdd.count();
        shipped.forEach(b -> b.unpersist(false)); // the executors keep the cached blocks; the driver its copy
        return rdd;
    }

    /** One batch as a block (its tensors copied). */
    public static ExampleBlock block(Batch b, int[] inputShape) {
        float[] x = b.inputs().contiguous().toFloatArray();
        if (b.targets().dtype() == DType.INT64) {
            return new ExampleBlock(inputShape, x, b.targets().toLongArray(), null);
        }
        return new ExampleBlock(inputShape, x, null, b.targets().reshape(-1).toFloatArray());
    }

    /**
     * A numeric CSV file (or folder of files, or glob: anything {@code SparkContext.textFile} reads)
     * as training data: each line one example, the column {@code labelColumn} an integer class label
     * and every other column a feature. Lines that start with a letter (a header) are skipped.
     *
     * @param partitions the minimum number of partitions
     * @param inputShape the shape of one example's inputs, or null for a flat vector
     */
    public static JavaRDD<ExampleBlock> csv(JavaSparkContext sc, String path, int labelColumn, int partitions,
            int[] inputShape) {
        JavaRDD<Example> examples = sc.textFile(path, partitions).filter(line -> !line.isBlank()
                && !Character.isLetter(line.strip().charAt(0))).map(line -> parseCsvLine(line, labelColumn, path));
        int[] shape = inputShape;
        if (shape == null) {
            Example first = examples.first();
            shape = new int[] {first.features().length};
        }
        return fromExamples(examples, shape);
    }

    static Example parseCsvLine(String line, int labelColumn, String path) {
        String[] cells = line.split(",", -1);
        if (labelColumn < 0 || labelColumn >= cells.length) {
            throw new IllegalArgumentException(path + ": label column " + labelColumn + " is outside a line of "
                    + cells.length + " columns: " + abbreviate(line));
        }
        float[] x = new float[cells.length - 1];
        long label = -1;
        for (int c = 0, k = 0; c < cells.length; c++) {
            String cell = cells[c].strip();
            try {
                if (c == labelColumn) {
                    label = Long.parseLong(cell);
                } else {
                    x[k++] = Float.parseFloat(cell);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(path + ": column " + c + " is not a number ('" + cell + "') in line: "
                        + abbreviate(line) + (c == labelColumn ? " (the label must be an integer class index)" : ""));
            }
        }
        return Example.of(x, label);
    }

    private static String abbreviate(String s) {
        return s.length() > 80 ? s.substring(0, 77) + "..." : s;
    }

    /** A uniformly random permutation of 0..n-1 (Fisher-Yates with {@code g}). */
    static int[] permutation(int n, Generator g) {
        int[] perm = new int[n];
        for (int i = 0; i < n; i++) {
            perm[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = g.nextInt(i + 1);
            int t = perm[i];
            perm[i] = perm[j];
            perm[j] = t;
        }
        return perm;
    }
}
