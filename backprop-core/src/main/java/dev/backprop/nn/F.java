package dev.backprop.nn;

import dev.backprop.ops.BinaryCrossEntropy;
import dev.backprop.ops.Conv;
import dev.backprop.ops.CrossEntropy;
import dev.backprop.ops.EmbeddingLookup;
import dev.backprop.ops.Pool;
import dev.backprop.ops.Reduction;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;

/**
 * Stateless functions in the spirit of {@code torch.nn.functional}: losses and layer math that
 * take every weight as an argument. Defaults match PyTorch's.
 */
public final class F {
    private F() {}

    /** Options of the class losses ({@link #crossEntropy}, {@link #nllLoss}), PyTorch's defaults first. */
    public record ClassLossOptions(Tensor weight, long ignoreIndex, Reduction reduction, float labelSmoothing) {
        /** No class weights, ignore_index -100, mean reduction, no smoothing. */
        public static ClassLossOptions defaults() {
            return new ClassLossOptions(null, -100, Reduction.MEAN, 0f);
        }

        public ClassLossOptions withWeight(Tensor classWeights) {
            return new ClassLossOptions(classWeights, ignoreIndex, reduction, labelSmoothing);
        }

        public ClassLossOptions withIgnoreIndex(long index) {
            return new ClassLossOptions(weight, index, reduction, labelSmoothing);
        }

        public ClassLossOptions withReduction(Reduction r) {
            return new ClassLossOptions(weight, ignoreIndex, r, labelSmoothing);
        }

        public ClassLossOptions withLabelSmoothing(float epsilon) {
            return new ClassLossOptions(weight, ignoreIndex, reduction, epsilon);
        }
    }

    /** Softmax cross-entropy with PyTorch's defaults: logits (N, C) or (N, C, d...), int64 targets. */
    public static Tensor crossEntropy(Tensor logits, Tensor target) {
        return crossEntropy(logits, target, ClassLossOptions.defaults());
    }

    /**
     * Softmax cross-entropy. {@code logits}: (N, C), (C) or (N, C, d1, ...); {@code target}: int64
     * class indices of shape (N), () or (N, d1, ...), or float probabilities of the logits' shape.
     */
    public static Tensor crossEntropy(Tensor logits, Tensor target, ClassLossOptions options) {
        return classLoss(logits, target, options, false);
    }

    /** Negative log-likelihood on log-probabilities (for example the output of logSoftmax). */
    public static Tensor nllLoss(Tensor logProbs, Tensor target) {
        return nllLoss(logProbs, target, ClassLossOptions.defaults());
    }

    public static Tensor nllLoss(Tensor logProbs, Tensor target, ClassLossOptions options) {
        if (options.labelSmoothing() != 0) {
            throw new IllegalArgumentException("nll_loss: label smoothing is a cross_entropy option; nll_loss has none");
        }
        return classLoss(logProbs, target, options, true);
    }

    private static Tensor classLoss(Tensor input, Tensor target, ClassLossOptions o, boolean fromLogProbs) {
        String op = fromLogProbs ? "nll_loss" : "cross_entropy";
        boolean classTargets = target.dtype() == DType.INT64;
        if (input.dim() == 1) { // unbatched: (C) with a () target
            Tensor t = classTargets ? target.reshape(1) : target.unsqueeze(0);
            Tensor loss = classLoss(input.unsqueeze(0), t, o, fromLogProbs);
            return o.reduction() == Reduction.NONE ? loss.reshape() : loss;
        }
        if (input.dim() > 2) { // (N, C, d...) -> (N * d..., C)
            int[] s = input.shape();
            int c = s[1];
            int[] perm = new int[s.length];
            perm[0] = 0;
            for (int i = 1; i < s.length - 1; i++) {
                perm[i] = i + 1;
            }
            perm[s.length - 1] = 1;
            Tensor flat = input.permute(perm).reshape(-1, c);
            Tensor flatTarget = classTargets ? target.reshape(-1) : target.permute(perm).reshape(-1, c);
            if (classTargets && flatTarget.numel() != flat.size(0)) {
                throw new IllegalArgumentException(op + ": input " + Shape.str(s) + " needs a target of shape (N, d1, ...)"
                        + " with " + flat.size(0) + " elements, got " + Shape.str(target.shape()));
            }
            Tensor loss = classLoss(flat, flatTarget, o, fromLogProbs);
            if (o.reduction() != Reduction.NONE) {
                return loss;
            }
            int[] outShape = new int[s.length - 1];
            outShape[0] = s[0];
            System.arraycopy(s, 2, outShape, 1, s.length - 2);
            return loss.reshape(outShape);
        }
        return CrossEntropy.apply(input, target, o.weight(), o.ignoreIndex(), o.labelSmoothing(), o.reduction(),
                fromLogProbs);
    }

    /** Mean squared error: mean((input - target)^2). */
    public static Tensor mseLoss(Tensor input, Tensor target) {
        return mseLoss(input, target, Reduction.MEAN);
    }

    public static Tensor mseLoss(Tensor input, Tensor target, Reduction reduction) {
        Tensor d = input.sub(checkSameShape("mse_loss", input, target));
        return reduction.reduce(d.mul(d));
    }

    /** Mean absolute error. */
    public static Tensor l1Loss(Tensor input, Tensor target) {
        return l1Loss(input, target, Reduction.MEAN);
    }

    public static Tensor l1Loss(Tensor input, Tensor target, Reduction reduction) {
        return reduction.reduce(input.sub(checkSameShape("l1_loss", input, target)).abs());
    }

    /** Huber loss with delta 1. */
    public static Tensor huberLoss(Tensor input, Tensor target) {
        return huberLoss(input, target, Reduction.MEAN, 1f);
    }

    /** 0.5 d^2 where |d| < delta, else delta (|d| - 0.5 delta), with d = input - target. */
    public static Tensor huberLoss(Tensor input, Tensor target, Reduction reduction, float delta) {
        if (!(delta > 0)) {
            throw new IllegalArgumentException("huber_loss: delta must be positive, got " + delta);
        }
        Tensor d = input.sub(checkSameShape("huber_loss", input, target));
        Tensor absD = d.abs();
        Tensor quadratic = d.mul(d).mul(0.5f);
        Tensor linear = absD.sub(0.5f * delta).mul(delta);
        return reduction.reduce(Tensor.where(absD.lt(delta), quadratic, linear));
    }

    /** Binary cross-entropy on probabilities in [0, 1]. */
    public static Tensor binaryCrossEntropy(Tensor input, Tensor target) {
        return binaryCrossEntropy(input, target, null, Reduction.MEAN);
    }

    /** Binary cross-entropy with optional per-element weight (broadcast). */
    public static Tensor binaryCrossEntropy(Tensor input, Tensor target, Tensor weight, Reduction reduction) {
        Tensor l = BinaryCrossEntropy.onProbabilities(input, target);
        return reduction.reduce(weight == null ? l : l.mul(weight));
    }

    /** Binary cross-entropy on logits (numerically stable sigmoid + BCE). */
    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target) {
        return binaryCrossEntropyWithLogits(input, target, null, null, Reduction.MEAN);
    }

    /**
     * Binary cross-entropy on logits; {@code weight} rescales each element, {@code posWeight}
     * (broadcast along the last dims, typically one per class) weighs the positive term.
     */
    public static Tensor binaryCrossEntropyWithLogits(Tensor input, Tensor target, Tensor weight, Tensor posWeight,
            Reduction reduction) {
        Tensor l = BinaryCrossEntropy.onLogits(input, target, posWeight);
        return reduction.reduce(weight == null ? l : l.mul(weight));
    }

    /** y = x Wᵀ + b, with W of shape (out, in) as in {@code torch.nn.Linear}; b may be null. */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        return dev.backprop.ops.Linear.apply(x, weight, bias);
    }

    /** Inverted dropout: zero with probability p and scale survivors by 1/(1-p), only when {@code training}. */
    public static Tensor dropout(Tensor x, float p, boolean training, Generator gen) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("dropout: p must be in [0, 1], got " + p);
        }
        if (!training || p == 0) {
            return x;
        }
        float[] mask = new float[x.numel()];
        float scale = p == 1 ? 0f : 1f / (1 - p);
        for (int i = 0; i < mask.length; i++) {
            mask[i] = gen.nextFloat() >= p ? scale : 0f;
        }
        return x.mul(Tensor.of(mask, x.shape()));
    }

    /**
     * Layer normalisation over the last {@code normalizedShape.length} dimensions:
     * (x - mean) / sqrt(var + eps) * weight + bias, with the biased variance; weight/bias may be null.
     * One fused op ({@link dev.backprop.ops.LayerNormOp}) when weight and bias have the normalized
     * shape; a weight or bias that only broadcasts to it is applied by separate ops.
     */
    public static Tensor layerNorm(Tensor x, int[] normalizedShape, Tensor weight, Tensor bias, float eps) {
        int k = normalizedShape.length;
        int[] s = x.shape();
        if (k == 0 || k > s.length || !java.util.Arrays.equals(
                java.util.Arrays.copyOfRange(s, s.length - k, s.length), normalizedShape)) {
            throw new IllegalArgumentException("layer_norm: expected input of shape (*, "
                    + Shape.str(normalizedShape).replace("[", "").replace("]", "") + "), got " + Shape.str(s));
        }
        if ((weight == null || java.util.Arrays.equals(weight.shape(), normalizedShape))
                && (bias == null || java.util.Arrays.equals(bias.shape(), normalizedShape))) {
            return dev.backprop.ops.LayerNormOp.apply(x, Shape.numel(normalizedShape), weight, bias, eps);
        }
        // a weight or bias that only broadcasts to the normalized shape: the composite form
        int[] dims = new int[k];
        for (int i = 0; i < k; i++) {
            dims[i] = s.length - k + i;
        }
        Tensor mean = x.mean(dims, true);
        Tensor centered = x.sub(mean);
        Tensor var = centered.mul(centered).mean(dims, true);
        Tensor y = centered.div(var.add(eps).sqrt());
        if (weight != null) {
            y = y.mul(weight);
        }
        return bias == null ? y : y.add(bias);
    }

    /**
     * Scaled dot-product attention, as {@code torch.nn.functional.scaled_dot_product_attention}
     * (without dropout): {@code softmax(q kᵀ · scale + mask) v} over the last two dimensions, one
     * fused op (see {@link dev.backprop.ops.Attention}).
     *
     * @param q query (…, L, E)
     * @param k key (…, S, E)
     * @param v value (…, S, Ev); the batch dimensions of q, k and v broadcast
     * @param attnMask null, or broadcastable to (…, L, S): bool/uint8 where true means the query may
     *     attend to that key (PyTorch's convention here; note that {@link MultiheadAttention}'s
     *     masks mean the opposite), or float added to the scores
     * @param causal query i attends to keys 0..i only (the top-left aligned causal mask); not
     *     together with {@code attnMask}, as in PyTorch
     * @param scale the factor on q kᵀ; NaN for PyTorch's default 1/√E
     * @return (…, L, Ev), laid out in memory in the order of q's dimensions (a view for heads split
     *     from a packed projection); rows whose keys are all masked are NaN, as in PyTorch
     */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor attnMask, boolean causal,
            double scale) {
        if (causal && attnMask != null) {
            throw new IllegalArgumentException("scaled_dot_product_attention: pass either attnMask or causal=true, "
                    + "not both (PyTorch refuses an explicit attn_mask with is_causal=True); fold the causal mask into "
                    + "attnMask instead");
        }
        return attnMask == null
                ? dev.backprop.ops.Attention.apply(q, k, v, causal, scale)
                : dev.backprop.ops.Attention.apply(q, k, v, false, scale,
                        attnMask.dtype() == DType.FLOAT32 ? dev.backprop.ops.Attention.Mask.additive(attnMask)
                                : dev.backprop.ops.Attention.Mask.allowWhereTrue(attnMask));
    }

    /** {@link #scaledDotProductAttention(Tensor, Tensor, Tensor, Tensor, boolean, double)} with scale 1/√E. */
    public static Tensor scaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor attnMask, boolean causal) {
        return scaledDotProductAttention(q, k, v, attnMask, causal, Double.NaN);
    }

    /**
     * Batch normalisation over dimension 1 (channels) of (N, C) or (N, C, *). In training the batch
     * statistics normalise (biased variance) and the running statistics are updated in place with
     * {@code momentum} (unbiased variance, as PyTorch); otherwise the running statistics are used.
     */
    public static Tensor batchNorm(Tensor x, Tensor runningMean, Tensor runningVar, Tensor weight, Tensor bias,
            boolean training, float momentum, float eps) {
        int[] s = x.shape();
        if (s.length < 2) {
            throw new IllegalArgumentException("batch_norm: expected input (N, C) or (N, C, *), got " + Shape.str(s));
        }
        int c = s[1];
        int[] dims = new int[s.length - 1];
        int[] statShape = new int[s.length];
        java.util.Arrays.fill(statShape, 1);
        statShape[1] = c;
        for (int i = 0, j = 0; i < s.length; i++) {
            if (i != 1) {
                dims[j++] = i;
            }
        }
        Tensor y;
        if (training) {
            int n = x.numel() / c;
            if (n <= 1) {
                throw new IllegalArgumentException("batch_norm: expected more than 1 value per channel when training, "
                        + "got input of shape " + Shape.str(s));
            }
            Tensor mean = x.mean(dims, true);
            Tensor centered = x.sub(mean);
            Tensor var = centered.mul(centered).mean(dims, true);
            y = centered.div(var.add(eps).sqrt());
            if (runningMean != null && runningVar != null) {
                try (var ignored = dev.backprop.autograd.GradMode.noGrad()) {
                    Tensor m = mean.detach().reshape(c);
                    Tensor v = var.detach().reshape(c).mul((float) n / (n - 1));
                    runningMean.copyFrom(runningMean.mul(1 - momentum).add(m.mul(momentum)));
                    runningVar.copyFrom(runningVar.mul(1 - momentum).add(v.mul(momentum)));
                }
            }
        } else {
            if (runningMean == null || runningVar == null) {
                throw new IllegalArgumentException("batch_norm: evaluation needs running statistics");
            }
            y = x.sub(runningMean.reshape(statShape)).div(runningVar.reshape(statShape).add(eps).sqrt());
        }
        if (weight != null) {
            y = y.mul(weight.reshape(statShape));
        }
        return bias == null ? y : y.add(bias.reshape(statShape));
    }

    /** Rows of {@code weight} (V, D) at int64 {@code indices}; the padding row (or -1) gets no gradient. */
    public static Tensor embedding(Tensor indices, Tensor weight, long paddingIdx) {
        return EmbeddingLookup.apply(weight, indices, paddingIdx);
    }

    /** 2-D convolution of (N, C, H, W) with weight (O, C/groups, kH, kW); bias may be null. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation,
            int groups) {
        return Conv.conv2d(x, weight, bias, stride, padding, dilation, groups);
    }

    /** 1-D convolution of (N, C, L) with weight (O, C/groups, K); bias may be null. */
    public static Tensor conv1d(Tensor x, Tensor weight, Tensor bias, int stride, int padding, int dilation,
            int groups) {
        return Conv.conv1d(x, weight, bias, stride, padding, dilation, groups);
    }

    /** Transposed 2-D convolution with weight (C_in, C_out/groups, kH, kW). */
    public static Tensor convTranspose2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding,
            int outputPadding, int groups, int dilation) {
        return Conv.convTranspose2d(x, weight, bias, stride, padding, outputPadding, groups, dilation);
    }

    /** Max pooling over (N, C, H, W) windows; stride defaults to the kernel size in {@link #maxPool2d(Tensor, int)}. */
    public static Tensor maxPool2d(Tensor x, int kernelSize, int stride, int padding) {
        return Pool.maxPool2d(x, kernelSize, stride, padding);
    }

    public static Tensor maxPool2d(Tensor x, int kernelSize) {
        return Pool.maxPool2d(x, kernelSize);
    }

    /** Average pooling (padding counted in the average, as PyTorch's default). */
    public static Tensor avgPool2d(Tensor x, int kernelSize, int stride, int padding) {
        return Pool.avgPool2d(x, kernelSize, stride, padding);
    }

    /** Average pooling to a fixed output size. */
    public static Tensor adaptiveAvgPool2d(Tensor x, int outH, int outW) {
        return Pool.adaptiveAvgPool2d(x, outH, outW);
    }

    private static Tensor checkSameShape(String op, Tensor input, Tensor target) {
        if (!java.util.Arrays.equals(input.shape(), target.shape())) {
            throw new IllegalArgumentException(op + ": target shape " + Shape.str(target.shape())
                    + " differs from input shape " + Shape.str(input.shape())
                    + "; PyTorch would broadcast with a warning, backprop asks for equal shapes");
        }
        return target;
    }
}
