package dev.backprop.check;

import dev.backprop.nn.Activation;
import dev.backprop.nn.BatchNorm1d;
import dev.backprop.nn.BatchNorm2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Embedding;
import dev.backprop.nn.Init;
import dev.backprop.nn.LayerNorm;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * Gradient checks of the basic layers (linear, normalisation, embedding, dropout, a small MLP)
 * with respect to their parameters and inputs together. Convolution, recurrent and attention
 * layers have their own catalogs.
 */
public final class LayerGradChecks {
    private LayerGradChecks() {}

    public static List<GradCheckCase> all() {
        long[] defaultState = Generator.defaultGenerator().state();
        Generator g = new Generator(31);
        Generator.defaultGenerator().manualSeed(31);
        List<GradCheckCase> cases = new ArrayList<>();
        Tensor x = Tensor.randn(g, 4, 6).requiresGrad(true);

        cases.add(layer("Linear", new Linear(6, 3), x));
        cases.add(layer("Linear without bias, 3-D input", new Linear(6, 2, false),
                Tensor.randn(g, 2, 3, 6).requiresGrad(true)));
        LayerNorm ln = new LayerNorm(6);
        Init.normal(ln.weight(), 1, 0.5, g);
        Init.normal(ln.bias(), 0, 0.5, g);
        cases.add(layer("LayerNorm", ln, x));
        BatchNorm1d bn1 = new BatchNorm1d(6);
        Init.normal(bn1.weight(), 1, 0.5, g);
        cases.add(layer("BatchNorm1d (training)", bn1, x));
        BatchNorm2d bn2 = new BatchNorm2d(2);
        Init.normal(bn2.bias(), 0, 0.5, g);
        cases.add(layer("BatchNorm2d (training)", bn2, Tensor.randn(g, 3, 2, 2, 2).requiresGrad(true)));
        BatchNorm2d bnEval = new BatchNorm2d(2);
        bnEval.forward(Tensor.randn(g, 4, 2, 3, 3)); // non-trivial running statistics
        bnEval.eval();
        cases.add(layer("BatchNorm2d (eval)", bnEval, Tensor.randn(g, 3, 2, 2, 2).requiresGrad(true)));
        // the padding row's gradient is 0 by definition (PyTorch's rule), not the true derivative: no padding here
        Embedding emb = new Embedding(7, 3);
        Tensor ids = Tensor.ofLongs(new long[] {1, 6, 1, 0, 3}, 5);
        cases.add(GradCheckCase.ofParameters("Embedding (repeated ids)", () -> emb.forward(ids), emb.parameters()));
        Generator dropGen = new Generator(0);
        Dropout drop = new Dropout(0.3f, dropGen);
        cases.add(GradCheckCase.ofFunction("Dropout (training, fixed mask)", in -> {
            dropGen.manualSeed(5); // the same mask on every evaluation
            return drop.forward(in.get(0));
        }, x));
        Sequential mlp = new Sequential(new Linear(6, 5), new Activation.Tanh(), new Linear(5, 4),
                new Activation.GELU(), new Linear(4, 2));
        cases.add(layer("Sequential MLP (tanh, GELU)", mlp, x));
        // the fused layer-norm op in its other forms: no affine parameters over two dimensions, weight only
        cases.add(layer("LayerNorm over (2, 3), no affine", new LayerNorm(new int[] {2, 3}, 1e-5f, false, false),
                Tensor.randn(g, 4, 2, 3).requiresGrad(true)));
        LayerNorm weightOnly = new LayerNorm(new int[] {5}, 1e-3f, true, false);
        Init.normal(weightOnly.weight(), 1, 0.5, g);
        cases.add(layer("LayerNorm weight only, eps 1e-3", weightOnly,
                Tensor.randn(g, 3, 5).requiresGrad(true)));
        Generator.defaultGenerator().setState(defaultState);
        return cases;
    }

    /** Checks a layer's parameters and its input together. */
    private static GradCheckCase layer(String name, Module m, Tensor input) {
        List<Tensor> checked = new ArrayList<>(m.parameters());
        Tensor in = input.copy().requiresGrad(true);
        checked.add(in);
        return GradCheckCase.ofParameters(name, () -> m.forward(in), checked);
    }
}
