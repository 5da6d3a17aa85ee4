package dev.backprop.data;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A generated image classification data set, so that {@code ./backprop train} has something to
 * learn with no download: 28x28 grayscale images of 10 classes of shapes and patterns.
 *
 * <table>
 *   <caption>Classes</caption>
 *   <tr><th>index</th><th>class</th><th>what varies</th></tr>
 *   <tr><td>0</td><td>disk</td><td>radius 4.5-10</td></tr>
 *   <tr><td>1</td><td>square (outline)</td><td>half-side 5-10.5, stroke 1.3-2.8, tilt +-15 deg</td></tr>
 *   <tr><td>2</td><td>triangle (filled)</td><td>size, pointing up or down, tilt +-20 deg</td></tr>
 *   <tr><td>3</td><td>plus</td><td>arm 5-10, stroke 1.5-3, tilt +-12 deg</td></tr>
 *   <tr><td>4</td><td>horizontal stripes</td><td>period 3.5-6, stroke, phase, patch size, tilt +-10 deg</td></tr>
 *   <tr><td>5</td><td>vertical stripes</td><td>as 4, turned 90 deg</td></tr>
 *   <tr><td>6</td><td>diagonal stripes</td><td>as 4, turned +45 or -45 deg (+-8)</td></tr>
 *   <tr><td>7</td><td>ring</td><td>radius 6-11, stroke 1.3-2.8</td></tr>
 *   <tr><td>8</td><td>dot grid</td><td>period 4-6.5, dot radius 0.9-1.6, phase, patch size, tilt +-10 deg</td></tr>
 *   <tr><td>9</td><td>X</td><td>as 3, turned 45 deg</td></tr>
 * </table>
 *
 * <p>Every image also has a random position, a random background level and foreground contrast, a
 * faint brightness gradient and Gaussian pixel noise. The position, phase and scale changes defeat
 * a linear classifier (the average image of each pattern class is nearly flat), while a small CNN
 * separates the classes easily; the classes are all unchanged by a horizontal flip, so
 * {@link ImageAugment#randomCropFlip} is a valid augmentation.
 *
 * <p>Shapes are drawn from signed distance functions with one pixel of anti-aliasing. Example
 * {@code i} is drawn with its own generator seeded from the seed, the split and {@code i}, so the
 * data is the same for the same seed on every machine and whatever the number of threads used to
 * draw it; classes are balanced (the counts differ by at most one) and in random order.
 */
public final class Synthetic {
    /** Image side in pixels. */
    public static final int SIZE = 28;

    /** Class names by index. */
    public static final List<String> CLASSES = List.of("disk", "square", "triangle", "plus", "horizontal stripes",
            "vertical stripes", "diagonal stripes", "ring", "dot grid", "x");

    /** Sizes of the default data set of {@code ./backprop train}. */
    public static final int DEFAULT_TRAIN_SIZE = 12_000;
    public static final int DEFAULT_TEST_SIZE = 2_000;

    private static final int TRAIN_SPLIT = 0;
    private static final int TEST_SPLIT = 1;

    private Synthetic() {}

    /** The default training and test sets: 12,000 and 2,000 images. */
    public static TrainTest trainTest(long seed) {
        return trainTest(DEFAULT_TRAIN_SIZE, DEFAULT_TEST_SIZE, seed);
    }

    /**
     * A training and a test set drawn independently from the same distribution: features
     * (N, 1, 28, 28) float32 in [0, 1], targets (N) int64 in 0..9.
     */
    public static TrainTest trainTest(int trainSize, int testSize, long seed) {
        return new TrainTest(generate(trainSize, seed, TRAIN_SPLIT), generate(testSize, seed, TEST_SPLIT));
    }

    /** {@code n} images (the training stream of {@code seed}: the same as {@code trainTest(n, m, seed).train()}). */
    public static TensorDataset generate(int n, long seed) {
        return generate(n, seed, TRAIN_SPLIT);
    }

    private static TensorDataset generate(int n, long seed, int split) {
        if (n < 0) {
            throw new IllegalArgumentException("Synthetic: the number of images must be non-negative, got " + n);
        }
        int k = CLASSES.size();
        int[] order = Datasets.permutation(n, new Generator(Seeds.derive(seed, Seeds.SYNTHETIC, split)));
        long[] labels = new long[n];
        for (int i = 0; i < n; i++) {
            labels[order[i]] = i % k; // balanced, in random order
        }
        int plane = SIZE * SIZE;
        float[] pixels = new float[n * plane];
        IntStream.range(0, n).parallel().forEach(i -> {
            Generator gen = new Generator(Seeds.derive(seed, Seeds.SYNTHETIC, split, i));
            draw((int) labels[i], gen, pixels, i * plane);
        });
        return new TensorDataset(Tensor.of(pixels, n, 1, SIZE, SIZE), Tensor.ofLongs(labels, n));
    }

    /** A signed distance in pixels at a point (x, y) relative to the shape centre: negative inside. */
    @FunctionalInterface
    private interface Shape {
        double distance(double x, double y);
    }

    /** Draws one image of class {@code label} into {@code out[offset ..]}. */
    static void draw(int label, Generator gen, float[] out, int offset) {
        double background = 0.25 * gen.nextDouble();
        double foreground = Math.min(1.0, background + 0.4 + 0.6 * gen.nextDouble());
        double noise = 0.02 + 0.1 * gen.nextDouble();
        double rampAngle = 2 * Math.PI * gen.nextDouble();
        double ramp = 0.12 * gen.nextDouble() / SIZE; // brightness change per pixel
        double rampX = ramp * StrictMath.cos(rampAngle);
        double rampY = ramp * StrictMath.sin(rampAngle);

        Placed placed = shape(label, gen);
        double margin = Math.max(0, SIZE / 2.0 - placed.extent - 1);
        double cx = SIZE / 2.0 + (2 * gen.nextDouble() - 1) * margin;
        double cy = SIZE / 2.0 + (2 * gen.nextDouble() - 1) * margin;
        double cos = StrictMath.cos(placed.angle); // StrictMath: the same bits on every platform
        double sin = StrictMath.sin(placed.angle);

        for (int y = 0; y < SIZE; y++) {
            for (int x = 0; x < SIZE; x++) {
                double px = x + 0.5 - cx; // pixel centre relative to the shape centre
                double py = y + 0.5 - cy;
                double qx = cos * px + sin * py; // in the shape's frame
                double qy = -sin * px + cos * py;
                double d = placed.shape.distance(qx, qy);
                if (placed.patch > 0) { // pattern classes: clip to an axis-aligned patch
                    d = Math.max(d, Math.max(Math.abs(px) - placed.patch, Math.abs(py) - placed.patchY));
                }
                double coverage = Math.clamp(0.5 - d, 0.0, 1.0);
                double v = background + (x - SIZE / 2.0) * rampX + (y - SIZE / 2.0) * rampY
                        + (foreground - background) * coverage + noise * gen.nextGaussian();
                out[offset + y * SIZE + x] = (float) Math.clamp(v, 0.0, 1.0);
            }
        }
    }

    /**
     * A shape in its own frame, the angle that frame is turned by, the radius it reaches from its
     * centre (to keep it in the image), and for patterns the half-sizes of the patch they fill.
     */
    private record Placed(Shape shape, double angle, double extent, double patch, double patchY) {
        Placed(Shape shape, double angle, double extent) {
            this(shape, angle, extent, 0, 0);
        }
    }

    private static double uniform(Generator gen, double lo, double hi) {
        return lo + (hi - lo) * gen.nextDouble();
    }

    private static double degrees(double d) {
        return Math.toRadians(d);
    }

    private static Placed shape(int label, Generator gen) {
        return switch (label) {
            case 0 -> { // disk
                double r = uniform(gen, 4.5, 10);
                yield new Placed((x, y) -> Math.sqrt(x * x + y * y) - r, 0, r);
            }
            case 1 -> { // square outline
                double h = uniform(gen, 5, 10.5);
                double t = uniform(gen, 1.3, 2.8);
                yield new Placed((x, y) -> Math.abs(Math.max(Math.abs(x), Math.abs(y)) - h) - t / 2,
                        degrees(uniform(gen, -15, 15)), h * Math.sqrt(2) + t / 2);
            }
            case 2 -> { // filled equilateral triangle, incircle radius r, pointing up or down
                double r = uniform(gen, 3.5, 6);
                double flip = gen.nextDouble() < 0.5 ? 1 : -1;
                double c = Math.sqrt(3) / 2; // cos 30 degrees
                double s = 0.5; // sin 30 degrees
                yield new Placed((x, y) -> {
                    double yy = flip * y; // image y grows downwards: edge normals down, up-right, up-left
                    return Math.max(yy, Math.max(c * x - s * yy, -c * x - s * yy)) - r;
                }, degrees(uniform(gen, -20, 20)), 2 * r);
            }
            case 3, 9 -> { // plus, or X (a plus turned 45 degrees)
                double arm = uniform(gen, 5, 10);
                double t = uniform(gen, 1.5, 3);
                double tilt = uniform(gen, -12, 12) + (label == 9 ? 45 : 0);
                yield new Placed((x, y) -> Math.min(
                        Math.max(Math.abs(x) - arm, Math.abs(y) - t / 2),
                        Math.max(Math.abs(y) - arm, Math.abs(x) - t / 2)), degrees(tilt), arm * Math.sqrt(2));
            }
            case 4, 5, 6 -> { // stripes: lines parallel to the frame's x axis
                double period = uniform(gen, 3.5, 6);
                double t = uniform(gen, 1.2, 0.5 * period);
                double phase = period * gen.nextDouble();
                double tilt = switch (label) {
                    case 4 -> uniform(gen, -10, 10);
                    case 5 -> 90 + uniform(gen, -10, 10);
                    default -> (gen.nextDouble() < 0.5 ? 45 : -45) + uniform(gen, -8, 8);
                };
                double hx = uniform(gen, 7, 12);
                double hy = uniform(gen, 7, 12);
                yield new Placed((x, y) -> {
                    double u = (y - phase) / period;
                    return Math.abs(u - Math.rint(u)) * period - t / 2;
                }, degrees(tilt), Math.max(hx, hy), hx, hy);
            }
            case 7 -> { // ring
                double r = uniform(gen, 6, 11);
                double t = uniform(gen, 1.3, 2.8);
                yield new Placed((x, y) -> Math.abs(Math.sqrt(x * x + y * y) - r) - t / 2, 0, r + t / 2);
            }
            case 8 -> { // dot grid
                double period = uniform(gen, 4, 6.5);
                double radius = uniform(gen, 0.9, 1.6);
                double phaseX = period * gen.nextDouble();
                double phaseY = period * gen.nextDouble();
                double hx = uniform(gen, 7, 12);
                double hy = uniform(gen, 7, 12);
                yield new Placed((x, y) -> {
                    double u = (x - phaseX) / period;
                    double v = (y - phaseY) / period;
                    double fx = u - Math.rint(u);
                    double fy = v - Math.rint(v);
                    return Math.sqrt(fx * fx + fy * fy) * period - radius;
                }, degrees(uniform(gen, -10, 10)), Math.max(hx, hy), hx, hy);
            }
            default -> throw new IllegalArgumentException("Synthetic: no class " + label);
        };
    }
}
