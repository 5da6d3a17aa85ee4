package dev.backprop.nn;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.ops.ReferenceCases;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * The layer cases of ../shared/reference for linear, batch norm, layer norm and embedding: the
 * layer is built with the case's arguments, its parameters (and, in eval mode, buffers) are loaded
 * by their PyTorch state-dict names, and the output, every gradient and the running statistics
 * after the step must match PyTorch within |a - b| <= 1e-5 + 1e-4 |b|.
 */
class ReferenceLayersTest {

    private static final Map<String, Function<ReferenceCases.Case, Module>> LAYERS = new HashMap<>();

    static {
        LAYERS.put("linear", c -> new Linear(integer(c, "in_features"), integer(c, "out_features"),
                !Boolean.FALSE.equals(c.args().get("bias"))));
        LAYERS.put("batch_norm2d", c -> new BatchNorm2d(integer(c, "num_features"), (float) c.number("eps"),
                c.has("momentum") ? (float) c.number("momentum") : 0.1f, true, true));
        LAYERS.put("batch_norm1d", c -> new BatchNorm1d(integer(c, "num_features"), (float) c.number("eps"),
                c.has("momentum") ? (float) c.number("momentum") : 0.1f, true, true));
        LAYERS.put("layer_norm", c -> new LayerNorm(ints(c.args().get("normalized_shape")), (float) c.number("eps"),
                true, true));
        LAYERS.put("embedding", c -> new Embedding(integer(c, "num_embeddings"), integer(c, "embedding_dim")));
    }

    @TestFactory
    Stream<DynamicTest> pytorchLayerCases() {
        List<ReferenceCases.Case> cases = ReferenceCases.all().stream().filter(c -> LAYERS.containsKey(c.op())).toList();
        assertTrue(cases.size() >= 8, "expected the 8 linear/norm/embedding cases, found " + cases.size());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name() + " (" + c.op() + ")", () -> check(c)));
    }

    static void check(ReferenceCases.Case c) {
        Module layer = LAYERS.get(c.op()).apply(c);
        boolean training = !Boolean.FALSE.equals(c.args().get("training"));
        layer.train(training);
        Map<String, Tensor> state = new HashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("param.") || (!training && k.startsWith("buffer."))) {
                state.put(k.substring(k.indexOf('.') + 1), v);
            }
        });
        layer.loadStateDict(state, false);
        Tensor x = c.get("in.x").copy();
        if (x.dtype() == DType.FLOAT32 && c.tensors().containsKey("grad.in.x")) {
            x.requiresGrad(true);
        }
        Tensor out = layer.forward(x);
        assertClose(c.name() + ": out", out, c.get("out"));
        out.backward(c.get("grad_out"));
        if (c.tensors().containsKey("grad.in.x")) {
            assertClose(c.name() + ": grad.in.x", x.grad(), c.get("grad.in.x"));
        }
        Map<String, Tensor> params = layer.namedParameters();
        Map<String, Tensor> after = layer.stateDict();
        c.tensors().forEach((k, expected) -> {
            if (k.startsWith("grad.param.")) {
                Tensor p = params.get(k.substring("grad.param.".length()));
                assertNotNull(p, c.name() + ": the layer has no parameter for " + k);
                assertClose(c.name() + ": " + k, p.grad(), expected);
            } else if (k.startsWith("buffer.")) {
                Tensor b = after.get(k.substring("buffer.".length()));
                assertNotNull(b, c.name() + ": the layer has no buffer for " + k);
                assertClose(c.name() + ": " + k + " after the step", b.toFloat(), expected.toFloat());
            }
        });
    }

    static int integer(ReferenceCases.Case c, String arg) {
        return (int) c.number(arg);
    }

    @SuppressWarnings("unchecked")
    static int[] ints(Object list) {
        return ((List<Object>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }
}
