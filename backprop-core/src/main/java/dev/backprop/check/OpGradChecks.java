package dev.backprop.check;

import dev.backprop.nn.F;
import dev.backprop.nn.F.ClassLossOptions;
import dev.backprop.ops.Reduction;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Shape;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

/**
 * A gradient check for every differentiable op, on small deterministic inputs chosen away from
 * the points where the op has no derivative (relu at 0, clamp at its bounds, ties of max). The
 * test suite and {@code ./backprop gradcheck} both run this list.
 */
public final class OpGradChecks {
    private OpGradChecks() {}

    /** Every case, in a stable order. */
    public static List<GradCheckCase> all() {
        Generator g = new Generator(2024);
        List<GradCheckCase> cases = new ArrayList<>();
        // elementwise arithmetic with broadcasting
        cases.add(of("add (broadcast)", in -> in.get(0).add(in.get(1)), normal(g, 3, 4), normal(g, 4)));
        cases.add(of("sub (broadcast)", in -> in.get(0).sub(in.get(1)), normal(g, 2, 1, 4), normal(g, 3, 1)));
        cases.add(of("mul (broadcast)", in -> in.get(0).mul(in.get(1)), normal(g, 2, 3, 4), normal(g, 1, 3, 1)));
        cases.add(of("div (broadcast)", in -> in.get(0).div(in.get(1)), normal(g, 3, 4), positive(g, 3, 1)));
        cases.add(of("pow (tensor exponent)", in -> in.get(0).pow(in.get(1)), positive(g, 3, 4), normal(g, 4)));
        cases.add(of("pow (scalar 2.5)", in -> in.get(0).pow(2.5f), positive(g, 3, 5)));
        cases.add(of("pow (scalar 3)", in -> in.get(0).pow(3f), normal(g, 3, 5)));
        cases.add(of("maximum", in -> in.get(0).maximum(in.get(1)), grid(g, 3, 4), grid(g, 3, 4).add(0.05f)));
        cases.add(of("minimum", in -> in.get(0).minimum(in.get(1)), grid(g, 3, 4), grid(g, 3, 4).add(0.05f)));
        cases.add(of("scalar add/mul/div/rsub", in -> in.get(0).mul(-1.5f).add(0.25f).div(3f).rsub(2f),
                normal(g, 3, 5)));
        cases.add(of("neg", in -> in.get(0).neg(), normal(g, 4, 6)));
        // unary functions
        cases.add(of("exp", in -> in.get(0).exp(), normal(g, 4, 6)));
        cases.add(of("log", in -> in.get(0).log(), positive(g, 4, 6)));
        cases.add(of("sqrt", in -> in.get(0).sqrt(), positive(g, 4, 6)));
        cases.add(of("abs", in -> in.get(0).abs(), awayFromZero(g, 4, 6)));
        cases.add(of("sin", in -> in.get(0).sin(), normal(g, 4, 6)));
        cases.add(of("cos", in -> in.get(0).cos(), normal(g, 4, 6)));
        cases.add(of("tanh", in -> in.get(0).tanh(), normal(g, 4, 6)));
        cases.add(of("sigmoid", in -> in.get(0).sigmoid(), normal(g, 4, 6)));
        cases.add(of("relu", in -> in.get(0).relu(), awayFromZero(g, 4, 6)));
        cases.add(of("leaky_relu", in -> in.get(0).leakyRelu(0.01f), awayFromZero(g, 4, 6)));
        cases.add(of("elu", in -> in.get(0).elu(1f), awayFromZero(g, 4, 6)));
        cases.add(of("gelu", in -> in.get(0).gelu(), normal(g, 4, 6)));
        cases.add(of("gelu (tanh)", in -> in.get(0).geluTanh(), normal(g, 4, 6)));
        cases.add(of("silu", in -> in.get(0).silu(), normal(g, 4, 6)));
        cases.add(of("softplus", in -> in.get(0).softplus(), normal(g, 4, 6)));
        cases.add(of("clamp", in -> in.get(0).clamp(-0.55f, 0.65f), grid(g, 4, 6)));
        // reductions
        cases.add(of("sum (all)", in -> in.get(0).sum(), normal(g, 3, 4, 5)));
        cases.add(of("sum (dims 0,2, keepdim)", in -> in.get(0).sum(new int[] {0, 2}, true), normal(g, 3, 4, 5)));
        cases.add(of("mean (dim -1)", in -> in.get(0).mean(-1, false), normal(g, 3, 4, 5)));
        cases.add(of("max (dim 1)", in -> in.get(0).max(1, false), grid(g, 3, 4, 5)));
        cases.add(of("max (all)", in -> in.get(0).max(), grid(g, 3, 4)));
        cases.add(of("var (unbiased)", in -> in.get(0).var(-1, true, false), normal(g, 3, 4, 5)));
        cases.add(of("var (biased, keepdim)", in -> in.get(0).var(1, false, true), normal(g, 3, 4, 5)));
        cases.add(of("logsumexp", in -> in.get(0).logsumexp(-1, false), normal(g, 3, 4, 5)));
        cases.add(of("softmax", in -> in.get(0).softmax(-1), normal(g, 4, 7)));
        cases.add(of("softmax (dim 1 of 3)", in -> in.get(0).softmax(1), normal(g, 3, 5, 2)));
        cases.add(of("log_softmax", in -> in.get(0).logSoftmax(1), normal(g, 3, 5, 2)));
        // linear algebra
        cases.add(of("matmul 2-D", in -> in.get(0).matmul(in.get(1)), normal(g, 5, 7), normal(g, 7, 3)));
        cases.add(of("matmul batched", in -> in.get(0).matmul(in.get(1)), normal(g, 2, 3, 4, 5),
                normal(g, 2, 3, 5, 6)));
        cases.add(of("matmul broadcast batch", in -> in.get(0).matmul(in.get(1)), normal(g, 2, 1, 4, 5),
                normal(g, 3, 5, 2)));
        cases.add(of("matmul 3-D times matrix (one folded GEMM)", in -> in.get(0).matmul(in.get(1)),
                normal(g, 2, 3, 5), normal(g, 5, 4)));
        cases.add(of("matmul transposed 3-D times matrix", in -> in.get(0).transpose(0, 1).matmul(in.get(1)),
                normal(g, 3, 2, 5), normal(g, 5, 4)));
        cases.add(of("linear 3-D with bias (fused)", in -> dev.backprop.nn.F.linear(in.get(0), in.get(1), in.get(2)),
                normal(g, 2, 3, 5), normal(g, 4, 5), normal(g, 4)));
        cases.add(of("linear without bias, transposed input", in -> dev.backprop.nn.F.linear(in.get(0).t(), in.get(1),
                null), normal(g, 5, 3), normal(g, 4, 5)));
        cases.add(of("matmul matrix-vector", in -> in.get(0).matmul(in.get(1)), normal(g, 4, 5), normal(g, 5)));
        cases.add(of("matmul vector-matrix", in -> in.get(0).matmul(in.get(1)), normal(g, 5), normal(g, 5, 3)));
        cases.add(of("matmul vector-vector", in -> in.get(0).matmul(in.get(1)), normal(g, 5), normal(g, 5)));
        cases.add(of("matmul transposed views", in -> in.get(0).t().matmul(in.get(1).t()), normal(g, 6, 4),
                normal(g, 5, 6)));
        cases.add(of("linear (x Wᵀ + b)", in -> F.linear(in.get(0), in.get(1), in.get(2)), normal(g, 2, 5, 6),
                normal(g, 3, 6), normal(g, 3)));
        // views and indexing
        cases.add(of("permute", in -> in.get(0).permute(2, 0, 1).mul(in.get(1)), normal(g, 2, 3, 4),
                normal(g, 4, 2, 3)));
        cases.add(of("transpose + reshape", in -> in.get(0).transpose(0, 1).reshape(3, 8), normal(g, 2, 3, 4)));
        cases.add(of("view/flatten/squeeze/unsqueeze", in -> in.get(0).unsqueeze(1).flatten(2, 3).squeeze(1)
                .mul(in.get(1)), normal(g, 2, 3, 4), normal(g, 2, 12)));
        cases.add(of("slice with step", in -> in.get(0).slice(1, 1, 8, 2), normal(g, 4, 9)));
        cases.add(of("select", in -> in.get(0).select(1, -1), normal(g, 4, 3)));
        cases.add(of("expand", in -> in.get(0).expand(2, 3, 4).mul(in.get(1)), normal(g, 3, 1), normal(g, 2, 3, 4)));
        cases.add(of("contiguous of a transposed view", in -> in.get(0).t().contiguous().mul(in.get(1)),
                normal(g, 3, 4), normal(g, 4, 3)));
        cases.add(of("cat (dim 1)", in -> Tensor.cat(List.of(in.get(0), in.get(1)), 1), normal(g, 2, 3),
                normal(g, 2, 4)));
        cases.add(of("stack (dim 0)", in -> Tensor.stack(List.of(in.get(0), in.get(1)), 0), normal(g, 2, 3),
                normal(g, 2, 3)));
        cases.add(of("gather (repeated indices)", in -> in.get(0).gather(1, in.get(1)), normal(g, 3, 5),
                Tensor.ofLongs(new long[] {0, 0, 4, 1, 3, 3, 2, 2, 2}, 3, 3)));
        cases.add(of("index_select (repeated)", in -> in.get(0).indexSelect(0, in.get(1)), normal(g, 5, 3),
                Tensor.ofLongs(new long[] {4, 0, 4, 2}, 4)));
        cases.add(of("where (broadcast)", in -> Tensor.where(in.get(0), in.get(1), in.get(2)),
                Tensor.ofBools(new boolean[] {true, false, true, false}, 4), normal(g, 3, 4), normal(g, 1)));
        cases.add(of("masked_fill", in -> in.get(0).maskedFill(in.get(1), -1e9f).softmax(-1), normal(g, 3, 4),
                Tensor.ofBools(new boolean[] {false, false, true, true}, 4)));
        // losses
        Tensor target = Tensor.ofLongs(new long[] {1, 0, 9, 3, 3, 7, 2, 5}, 8);
        cases.add(of("cross_entropy", in -> F.crossEntropy(in.get(0), in.get(1)), normal(g, 8, 10), target));
        cases.add(of("cross_entropy (sum, ignore_index, smoothing, weights)", in -> F.crossEntropy(in.get(0),
                in.get(1), ClassLossOptions.defaults().withReduction(Reduction.SUM).withIgnoreIndex(3)
                        .withLabelSmoothing(0.1f).withWeight(in.get(2))),
                normal(g, 8, 10), target, positive(g, 10).detach()));
        cases.add(of("cross_entropy (N, C, L) with probabilities", in -> F.crossEntropy(in.get(0),
                in.get(1).softmax(1)), normal(g, 2, 4, 3), normal(g, 2, 4, 3).detach()));
        cases.add(of("nll_loss", in -> F.nllLoss(in.get(0).logSoftmax(1), in.get(1)), normal(g, 8, 10), target));
        cases.add(of("mse_loss", in -> F.mseLoss(in.get(0), in.get(1)), normal(g, 5, 3), normal(g, 5, 3)));
        cases.add(of("l1_loss", in -> F.l1Loss(in.get(0), in.get(1)), grid(g, 5, 3), grid(g, 5, 3).add(0.05f)));
        cases.add(of("huber_loss", in -> F.huberLoss(in.get(0), in.get(1).detach(), Reduction.MEAN, 1f),
                grid(g, 5, 3).mul(2f), Tensor.full(0.025f, 5, 3)));
        cases.add(of("binary_cross_entropy", in -> F.binaryCrossEntropy(in.get(0).sigmoid(), in.get(1)),
                normal(g, 6, 2), Tensor.rand(g, 6, 2)));
        cases.add(of("binary_cross_entropy_with_logits (pos_weight)", in -> F.binaryCrossEntropyWithLogits(
                in.get(0), in.get(1), null, Tensor.vector(2f, 0.5f), Reduction.MEAN), normal(g, 6, 2),
                Tensor.rand(g, 6, 2)));
        return cases;
    }

    private static GradCheckCase of(String name, Function<List<Tensor>, Tensor> f, Tensor... inputs) {
        return GradCheckCase.ofFunction(name, f, inputs);
    }

    static Tensor normal(Generator g, int... shape) {
        return Tensor.randn(g, shape).requiresGrad(true);
    }

    /** Uniform in [0.5, 2]. */
    private static Tensor positive(Generator g, int... shape) {
        return Tensor.rand(g, shape).mul(1.5f).add(0.5f).detach().requiresGrad(true);
    }

    /** Magnitudes in [0.1, 1.6] with random signs: kinks at 0 stay well beyond the step. */
    private static Tensor awayFromZero(Generator g, int... shape) {
        float[] v = Tensor.rand(g, shape).toFloatArray();
        for (int i = 0; i < v.length; i++) {
            v[i] = (0.1f + 1.5f * v[i]) * (g.nextFloat() < 0.5f ? -1 : 1);
        }
        return Tensor.of(v, shape).requiresGrad(true);
    }

    /** A shuffled grid -1.05, -0.95, ... spaced 0.1 apart: no two values, and no value and a bound, closer than 0.05. */
    static Tensor grid(Generator g, int... shape) {
        int n = Shape.numel(shape);
        float[] v = new float[n];
        for (int i = 0; i < n; i++) {
            v[i] = -0.05f * n + 0.1f * i + 0.025f;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = g.nextInt(i + 1);
            float t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return Tensor.of(v, shape).requiresGrad(true);
    }
}
