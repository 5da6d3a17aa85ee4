package dev.backprop.data;

import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;

/**
 * Image augmentations as {@link BatchTransform}s for a {@link DataLoader}, on float32 batches of
 * shape (N, C, H, W) or (N, H, W). Each example gets its own draws from the per-batch generator,
 * in example order, so the result depends only on the loader's seed and the batch's position.
 *
 * <pre>{@code
 * DataLoader loader = DataLoader.builder(train).batchSize(64).shuffle(true).seed(1)
 *         .transform(ImageAugment.randomCropFlip(2)).build();
 * }</pre>
 */
public final class ImageAugment {
    private ImageAugment() {}

    /**
     * Random crop with zero padding, then random horizontal flip: each image is padded with
     * {@code padding} zero pixels on every side, an H x W window is cut out at a uniformly random
     * position, and the result is mirrored left-right with probability 1/2 (torchvision's
     * {@code RandomCrop(size, padding)} followed by {@code RandomHorizontalFlip()}).
     *
     * @param padding pixels of zero padding on each side (0: flips only)
     */
    public static BatchTransform randomCropFlip(int padding) {
        return shiftAndFlip(padding, true, "randomCropFlip");
    }

    /** Random crop with {@code padding} pixels of zero padding, no flip. */
    public static BatchTransform randomCrop(int padding) {
        return shiftAndFlip(padding, false, "randomCrop");
    }

    /** Mirrors each image left-right with probability 1/2. */
    public static BatchTransform randomHorizontalFlip() {
        return shiftAndFlip(0, true, "randomHorizontalFlip");
    }

    private static BatchTransform shiftAndFlip(int padding, boolean flip, String name) {
        if (padding < 0) {
            throw new IllegalArgumentException(name + ": padding must be non-negative, got " + padding);
        }
        return (batch, gen) -> batch.withInputs(shiftAndFlip(batch.inputs(), padding, flip, gen, name));
    }

    /** One random (dy, dx, flip) per image; out(y, x) = in(y + dy, (flip ? W-1-x : x) + dx), 0 outside. */
    private static Tensor shiftAndFlip(Tensor images, int padding, boolean flip, Generator gen, String name) {
        images.requireType(DType.FLOAT32, name);
        if (images.dim() != 3 && images.dim() != 4) {
            throw new IllegalArgumentException(name + ": expected images (N, C, H, W) or (N, H, W), got "
                    + Arrays.toString(images.shape()));
        }
        Tensor src = images.contiguous();
        int n = src.size(0);
        int h = src.size(-2);
        int w = src.size(-1);
        int channels = src.dim() == 4 ? src.size(1) : 1;
        float[] in = src.floatStorage();
        int base = src.offset();
        float[] out = new float[src.numel()];
        int plane = h * w;
        for (int i = 0; i < n; i++) {
            int dy = padding == 0 ? 0 : gen.nextInt(2 * padding + 1) - padding;
            int dx = padding == 0 ? 0 : gen.nextInt(2 * padding + 1) - padding;
            boolean mirror = flip && (gen.nextLong() & 1) != 0;
            for (int c = 0; c < channels; c++) {
                int p = (i * channels + c) * plane;
                for (int y = 0; y < h; y++) {
                    int sy = y + dy;
                    if (sy < 0 || sy >= h) {
                        continue; // zero padding: out is already 0
                    }
                    int srcRow = base + p + sy * w;
                    int dstRow = p + y * w;
                    for (int x = 0; x < w; x++) {
                        int sx = (mirror ? w - 1 - x : x) + dx;
                        if (sx >= 0 && sx < w) {
                            out[dstRow + x] = in[srcRow + sx];
                        }
                    }
                }
            }
        }
        return Tensor.of(out, src.shape());
    }
}
