package dev.backprop.check;

import dev.backprop.autograd.GradCheck;
import dev.backprop.autograd.GradMode;
import dev.backprop.autograd.HookHandle;
import dev.backprop.nn.F;
import dev.backprop.nn.Init;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Module;
import dev.backprop.nn.MultiheadAttention;
import dev.backprop.nn.TransformerDecoderLayer;
import dev.backprop.nn.TransformerEncoder;
import dev.backprop.nn.TransformerEncoderLayer;
import dev.backprop.ops.Attention;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;

/**
 * Gradient checks of the attention layers on tiny sizes (N = 2, L = 3, E = 4, 2 heads): each
 * check covers the inputs and every parameter of the layer at once (numerical against analytic
 * gradient of the layer's output), with dropout 0. The fused scaled dot-product attention op is
 * also checked on its own (causal on strided views, bool and float masks, broadcast batch). Parameters are drawn from a local generator,
 * so the cases do not depend on the default generator's state.
 *
 * <p>The relu encoder layer is checked at a draw where no pre-activation of the feed-forward
 * network lies within 0.05 of relu's kink (found by trying seeds in order), well beyond the
 * check's step; the other layers use GELU, which is smooth.
 */
public final class AttentionGradChecks {
    private static final int N = 2;
    private static final int L = 3;
    private static final int E = 4;
    private static final int HEADS = 2;
    private static final int S = 5; // memory / key length of the cross-attention cases
    private static final int FF = 6;

    private AttentionGradChecks() {}

    /** Every check, in a stable order. */
    public static List<GradCheckCase> all() {
        Generator g = new Generator(4242);
        List<GradCheckCase> checks = new ArrayList<>();
        MultiheadAttention.Options batchFirst = MultiheadAttention.Options.defaults().withBatchFirst(true);

        MultiheadAttention causal = init(new MultiheadAttention(E, HEADS, batchFirst), g);
        Tensor x1 = normal(g, N, L, E);
        Tensor causalMask = MultiheadAttention.causalMask(L);
        checks.add(check("multihead_attention self, causal mask (batchFirst)", causal,
                () -> causal.forward(x1, x1, x1, null, causalMask, false, true, false).output(), x1));

        MultiheadAttention padded = init(new MultiheadAttention(E, HEADS), g);
        Tensor x2 = normal(g, L, N, E); // sequence first
        Tensor padding = Tensor.ofBools(new boolean[] {false, false, false, false, true, false}, N, L);
        checks.add(check("multihead_attention self, key padding mask (sequence first)", padded,
                () -> padded.forward(x2, x2, x2, padding, null, false, true, false).output(), x2));

        MultiheadAttention weights = init(new MultiheadAttention(E, HEADS, batchFirst), g);
        Tensor x3 = normal(g, N, L, E);
        checks.add(check("multihead_attention weights per head, causal + padding", weights,
                () -> weights.forward(x3, x3, x3, padding, null, true, false, true).weights(), x3));

        MultiheadAttention cross = init(new MultiheadAttention(E, HEADS, batchFirst), g);
        Tensor q4 = normal(g, N, L, E);
        Tensor k4 = normal(g, N, S, E);
        Tensor v4 = normal(g, N, S, E);
        Tensor floatMask = Tensor.randn(g, L, S).mul(0.5f);
        checks.add(check("multihead_attention cross (S = 5, separate key and value, float mask)", cross,
                () -> cross.forward(q4, k4, v4, null, floatMask, false, true, false).output(), q4, k4, v4));

        MultiheadAttention shared = init(new MultiheadAttention(E, HEADS), g);
        Tensor q5 = normal(g, L, N, E);
        Tensor m5 = normal(g, S, N, E);
        Tensor memoryPadding = Tensor.ofBools(new boolean[] {false, false, false, true, true,
            false, false, false, false, false}, N, S);
        checks.add(check("multihead_attention cross (key is value, padding, averaged weights)", shared,
                () -> shared.forward(q5, m5, m5, memoryPadding, null, true, true, false).weights(), q5, m5));
        checks.add(check("multihead_attention cross (key is value, padding): output", shared,
                () -> shared.forward(q5, m5, m5, memoryPadding, null, false, true, false).output(), q5, m5));

        MultiheadAttention kv = init(new MultiheadAttention(E, HEADS, batchFirst.withKdimVdim(3, 5)), g);
        Tensor q6 = normal(g, N, L, E);
        Tensor k6 = normal(g, N, S, 3);
        Tensor v6 = normal(g, N, S, 5);
        checks.add(check("multihead_attention kdim 3, vdim 5", kv,
                () -> kv.forward(q6, k6, v6, null, null, false, true, false).output(), q6, k6, v6));

        MultiheadAttention noBias = init(new MultiheadAttention(E, HEADS, MultiheadAttention.Options.defaults()
                .withBias(false)), g);
        Tensor x7 = normal(g, L, E);
        checks.add(check("multihead_attention unbatched, no bias, causal", noBias,
                () -> noBias.forward(x7, x7, x7, null, null, false, true, true).output(), x7));

        TransformerEncoderLayer.Options layerOptions = TransformerEncoderLayer.Options.defaults().withDimFeedforward(FF)
                .withDropout(0f).withBatchFirst(true);

        TransformerEncoderLayer postRelu = new TransformerEncoderLayer(E, HEADS, layerOptions);
        Tensor x8 = normal(g, N, L, E);
        reluAwayFromKink(postRelu, () -> postRelu.forward(x8), g);
        checks.add(check("transformer_encoder_layer post-norm relu", postRelu, () -> postRelu.forward(x8), x8));

        TransformerEncoderLayer preGelu = init(new TransformerEncoderLayer(E, HEADS, layerOptions.withNormFirst(true)
                .withActivation("gelu")), g);
        Tensor x9 = normal(g, N, L, E);
        checks.add(check("transformer_encoder_layer pre-norm gelu, causal + padding", preGelu,
                () -> preGelu.forward(x9, null, padding, true), x9));

        TransformerEncoderLayer postGelu = init(new TransformerEncoderLayer(E, HEADS, layerOptions
                .withActivation("gelu").withBatchFirst(false)), g);
        Tensor x10 = normal(g, L, N, E);
        checks.add(check("transformer_encoder_layer post-norm gelu (sequence first), causal", postGelu,
                () -> postGelu.forward(x10, MultiheadAttention.causalMask(L), null, false), x10));

        TransformerDecoderLayer decoder = init(new TransformerDecoderLayer(E, HEADS, layerOptions
                .withActivation("gelu")), g);
        Tensor t11 = normal(g, N, L, E);
        Tensor m11 = normal(g, N, S, E);
        checks.add(check("transformer_decoder_layer post-norm gelu, causal + memory padding", decoder,
                () -> decoder.forward(t11, m11, null, null, null, memoryPadding, true), t11, m11));

        TransformerDecoderLayer preDecoder = init(new TransformerDecoderLayer(E, HEADS, layerOptions
                .withActivation("gelu").withNormFirst(true).withBatchFirst(false)), g);
        Tensor t12 = normal(g, L, N, E);
        Tensor m12 = normal(g, S, N, E);
        Tensor memoryMask = Tensor.randn(g, L, S).mul(0.5f);
        checks.add(check("transformer_decoder_layer pre-norm gelu (sequence first), masks", preDecoder,
                () -> preDecoder.forward(t12, m12, MultiheadAttention.causalMask(L), memoryMask, padding, null,
                        false), t12, m12));

        TransformerEncoder stack = init(new TransformerEncoder(i -> new TransformerEncoderLayer(E, HEADS,
                layerOptions.withActivation("gelu").withNormFirst(true)), 2, new LayerNorm(E)), g);
        Tensor x13 = normal(g, N, L, E);
        checks.add(check("transformer_encoder 2 pre-norm layers + final norm, causal", stack,
                () -> stack.forward(x13, null, null, true), x13));

        // the fused scaled dot-product attention op on its own (F.scaledDotProductAttention)
        Tensor packed = normal(g, N * L, 3 * E); // q, k, v heads split from one (N·L, 3E) matrix, read in place
        checks.add(GradCheckCase.ofFunction("scaled_dot_product_attention causal, heads of a packed projection",
                in -> {
                    Tensor x = in.get(0);
                    return F.scaledDotProductAttention(heads(x.slice(1, 0, E)), heads(x.slice(1, E, 2 * E)),
                            heads(x.slice(1, 2 * E, 3 * E)), null, true);
                }, packed));
        checks.add(GradCheckCase.ofFunction("scaled_dot_product_attention packed q/k/v projection, causal",
                in -> Attention.packed(in.get(0), HEADS, true, Double.NaN), normal(g, N, L, 3 * E)));
        boolean[] keep = new boolean[L * S];
        for (int i = 0; i < keep.length; i++) {
            keep[i] = i % S == 0 || i % 3 != 1; // every query keeps key 0
        }
        Tensor keepMask = Tensor.ofBools(keep, L, S);
        checks.add(GradCheckCase.ofFunction("scaled_dot_product_attention bool mask (true = attend), scale 0.8",
                in -> F.scaledDotProductAttention(in.get(0), in.get(1), in.get(2), keepMask, false, 0.8),
                normal(g, N, HEADS, L, 3), normal(g, N, HEADS, S, 3), normal(g, N, HEADS, S, 2)));
        Tensor additive = Tensor.randn(g, N, 1, L, S).mul(0.5f);
        checks.add(GradCheckCase.ofFunction("scaled_dot_product_attention float mask, key/value batch broadcast",
                in -> F.scaledDotProductAttention(in.get(0), in.get(1), in.get(2), additive, false),
                normal(g, N, HEADS, L, 3), normal(g, 1, HEADS, S, 3), normal(g, S, 2)));
        return checks;
    }

    // ------------------------------------------------------------------ helpers

    /** A check of the inputs and every parameter of {@code layer} together. */
    private static GradCheckCase check(String name, Module layer, Supplier<Tensor> forward, Tensor... inputs) {
        return new GradCheckCase(name, () -> {
            List<Tensor> checked = new ArrayList<>(List.of(inputs));
            checked.addAll(layer.parameters());
            return GradCheck.check(forward, checked, GradCheck.Options.defaults());
        });
    }

    /** Parameters drawn from {@code g}: layer-norm weights in [0.5, 1.5], everything else in [-0.6, 0.6]. */
    private static <M extends Module> M init(M layer, Generator g) {
        for (Map.Entry<String, Tensor> e : layer.namedParameters().entrySet()) {
            boolean normWeight = e.getKey().matches("(.*\\.)?norm\\d*\\.weight");
            if (normWeight) {
                Init.uniform(e.getValue(), 0.5, 1.5, g);
            } else {
                Init.uniform(e.getValue(), -0.6, 0.6, g);
            }
        }
        return layer;
    }

    /** Redraws the parameters until every input of relu (linear1's output) is at least 0.05 away from 0. */
    private static void reluAwayFromKink(TransformerEncoderLayer layer, Supplier<Tensor> forward, Generator g) {
        float[] closest = new float[1];
        HookHandle h = layer.linear1().registerForwardHook((m, in, out) -> {
            float min = Float.POSITIVE_INFINITY;
            for (float v : out.toFloatArray()) {
                min = Math.min(min, Math.abs(v));
            }
            closest[0] = min;
        });
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            for (int attempt = 0; attempt < 10_000; attempt++) {
                init(layer, g);
                forward.get();
                if (closest[0] >= 0.05f) {
                    return;
                }
            }
        } finally {
            h.remove();
        }
        throw new IllegalStateException("no parameter draw kept relu's inputs away from 0");
    }

    /** (N·L, E) → (N, HEADS, L, E / HEADS), a view. */
    private static Tensor heads(Tensor m) {
        return m.reshape(N, L, HEADS, E / HEADS).transpose(1, 2);
    }

    private static Tensor normal(Generator g, int... shape) {
        return Tensor.randn(g, shape).requiresGrad(true);
    }
}
