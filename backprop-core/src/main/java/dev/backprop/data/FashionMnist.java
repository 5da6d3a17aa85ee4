package dev.backprop.data;

import dev.backprop.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Fashion-MNIST (Xiao, Rasul and Vollgraf, 2017): 28x28 grayscale images of clothing in 10
 * classes, 60,000 for training and 10,000 for testing, as four IDX files.
 *
 * <p>The files are looked for in a given directory, or by default in
 * {@code /usr/share/datasets/fashion-mnist}, where the Debian package {@code dataset-fashion-mnist}
 * installs them. Each may be gzipped ({@code train-images-idx3-ubyte.gz}) or not
 * ({@code train-images-idx3-ubyte}).
 *
 * <pre>{@code
 * TrainTest data = FashionMnist.load();          // or FashionMnist.load(Path.of("data/fashion"))
 * TensorDataset train = data.train();            // features (60000, 1, 28, 28) in [0, 1], targets (60000) int64
 * }</pre>
 */
public final class FashionMnist {
    /** Where the Debian package {@code dataset-fashion-mnist} puts the files. */
    public static final Path DEFAULT_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** The class names, by class index. */
    public static final List<String> CLASSES = List.of("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
            "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot");

    /** Base names of the four files, without {@code .gz}. */
    public static final String TRAIN_IMAGES = "train-images-idx3-ubyte";
    public static final String TRAIN_LABELS = "train-labels-idx1-ubyte";
    public static final String TEST_IMAGES = "t10k-images-idx3-ubyte";
    public static final String TEST_LABELS = "t10k-labels-idx1-ubyte";

    /** Mean and standard deviation of the training pixels in [0, 1], for normalising. */
    public static final float MEAN = 0.2860f;
    public static final float STD = 0.3530f;

    private FashionMnist() {}

    /** Whether the four files are in {@code dir} ({@code null}: {@link #DEFAULT_DIR}). */
    public static boolean isAvailable(Path dir) {
        Path d = dir == null ? DEFAULT_DIR : dir;
        for (String name : List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
            if (find(d, name) == null) {
                return false;
            }
        }
        return true;
    }

    /** Loads the data set from {@link #DEFAULT_DIR}. */
    public static TrainTest load() {
        return load(null);
    }

    /**
     * Loads the training and test sets from {@code dir} ({@code null}: {@link #DEFAULT_DIR}).
     * Images become float32 (N, 1, 28, 28) scaled to [0, 1], labels int64 (N).
     *
     * @throws DataException if a file is missing (the message says how to install the data set),
     *     is not a valid IDX file, or if images and labels differ in number or a label is not in
     *     0..9
     */
    public static TrainTest load(Path dir) {
        Path d = dir == null ? DEFAULT_DIR : dir;
        Map<String, Path> files = new LinkedHashMap<>();
        List<String> missing = new ArrayList<>();
        for (String name : List.of(TRAIN_IMAGES, TRAIN_LABELS, TEST_IMAGES, TEST_LABELS)) {
            Path p = find(d, name);
            if (p == null) {
                missing.add(name + ".gz");
            }
            files.put(name, p);
        }
        if (!missing.isEmpty()) {
            throw new DataException(d.toString(), "Fashion-MNIST not found: missing " + String.join(", ", missing)
                    + (Files.isDirectory(d) ? "" : " (the directory does not exist)")
                    + ". Install it with `sudo apt-get install dataset-fashion-mnist` (files in " + DEFAULT_DIR
                    + "), or download the four files from https://github.com/zalandoresearch/fashion-mnist and pass"
                    + " their directory with --data DIR");
        }
        return new TrainTest(dataset(files.get(TRAIN_IMAGES), files.get(TRAIN_LABELS)),
                dataset(files.get(TEST_IMAGES), files.get(TEST_LABELS)));
    }

    /** The file {@code name.gz} or {@code name} in {@code dir}, or {@code null}. */
    private static Path find(Path dir, String name) {
        for (String candidate : List.of(name + ".gz", name)) {
            Path p = dir.resolve(candidate);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /**
     * One split from an image file and a label file: counts must agree and labels lie in 0..9.
     * Images get a channel dimension: (N, 1, rows, columns).
     */
    static TensorDataset dataset(Path imagesFile, Path labelsFile) {
        Tensor images = Idx.images(imagesFile);
        Tensor labels = Idx.labels(labelsFile);
        int n = images.size(0);
        if (labels.size(0) != n) {
            throw new DataException(imagesFile.getParent() == null ? "." : imagesFile.getParent().toString(),
                    imagesFile.getFileName() + " has " + n + " images but " + labelsFile.getFileName() + " has "
                            + labels.size(0) + " labels; the files do not belong together or one is damaged");
        }
        long[] l = labels.longStorage();
        for (int i = 0; i < l.length; i++) {
            if (l[i] >= CLASSES.size()) {
                throw new DataException(labelsFile.toString(), "label " + i + " is " + l[i]
                        + ", expected a class index in 0.." + (CLASSES.size() - 1));
            }
        }
        Tensor features = images.reshape(n, 1, images.size(1), images.size(2));
        return new TensorDataset(features, labels);
    }
}
