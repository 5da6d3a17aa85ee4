package dev.backprop.ops;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.nn.F;
import dev.backprop.nn.F.ClassLossOptions;
import dev.backprop.tensor.DType;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every op-level case of ../shared/reference (computed by PyTorch in float64): the output and
 * the gradient of every input and parameter must satisfy |a - b| <= 1e-5 + 1e-4 |b|.
 */
class ReferenceOpsTest {

    /** How to run each reference op with backprop's API; the case's tensors are the arguments. */
    private static final Map<String, Function<ReferenceCases.Case, Tensor>> OPS = new HashMap<>();

    static {
        OPS.put("add", c -> c.get("in.a").add(c.get("in.b")));
        OPS.put("sub", c -> c.get("in.a").sub(c.get("in.b")));
        OPS.put("mul", c -> c.get("in.a").mul(c.get("in.b")));
        OPS.put("div", c -> c.get("in.a").div(c.get("in.b")));
        OPS.put("pow", c -> c.get("in.x").pow((float) c.number("exponent")));
        OPS.put("affine_scalar", c -> c.get("in.x").mul((float) c.number("mul")).add((float) c.number("add")));
        OPS.put("exp", c -> c.get("in.x").exp());
        OPS.put("log", c -> c.get("in.x").log());
        OPS.put("sqrt", c -> c.get("in.x").sqrt());
        OPS.put("abs", c -> c.get("in.x").abs());
        OPS.put("sin", c -> c.get("in.x").sin());
        OPS.put("cos", c -> c.get("in.x").cos());
        OPS.put("tanh", c -> c.get("in.x").tanh());
        OPS.put("sigmoid", c -> c.get("in.x").sigmoid());
        OPS.put("relu", c -> c.get("in.x").relu());
        OPS.put("leaky_relu", c -> c.get("in.x").leakyRelu((float) c.number("negative_slope")));
        OPS.put("elu", c -> c.get("in.x").elu(1f));
        OPS.put("gelu", c -> c.get("in.x").gelu());
        OPS.put("gelu_tanh", c -> c.get("in.x").geluTanh());
        OPS.put("silu", c -> c.get("in.x").silu());
        OPS.put("softplus", c -> c.get("in.x").softplus());
        OPS.put("clamp", c -> c.get("in.x").clamp((float) c.number("min"), (float) c.number("max")));
        OPS.put("sum", c -> c.has("dim")
                ? c.get("in.x").sum((int) c.number("dim"), keepdim(c)) : c.get("in.x").sum());
        OPS.put("mean", c -> c.has("dim")
                ? c.get("in.x").mean((int) c.number("dim"), keepdim(c)) : c.get("in.x").mean());
        OPS.put("max", c -> c.get("in.x").max((int) c.number("dim"), keepdim(c)));
        OPS.put("var", c -> c.get("in.x").var((int) c.number("dim"), (Boolean) c.args().get("unbiased"), keepdim(c)));
        OPS.put("logsumexp", c -> c.get("in.x").logsumexp((int) c.number("dim"), keepdim(c)));
        OPS.put("softmax", c -> c.get("in.x").softmax((int) c.number("dim")));
        OPS.put("log_softmax", c -> c.get("in.x").logSoftmax((int) c.number("dim")));
        OPS.put("matmul", c -> Boolean.TRUE.equals(c.args().get("transpose_a"))
                ? c.get("in.a").t().matmul(c.get("in.b")) : c.get("in.a").matmul(c.get("in.b")));
        OPS.put("permute", c -> c.get("in.x").permute(ints(c.args().get("dims"))));
        OPS.put("transpose_reshape", c -> {
            int[] t = ints(c.args().get("transpose"));
            return c.get("in.x").transpose(t[0], t[1]).reshape(ints(c.args().get("shape")));
        });
        OPS.put("slice", c -> c.get("in.x").slice((int) c.number("dim"), (int) c.number("start"),
                (int) c.number("end"), (int) c.number("step")));
        OPS.put("cat", c -> Tensor.cat(List.of(c.get("in.a"), c.get("in.b")), (int) c.number("dim")));
        OPS.put("stack", c -> Tensor.stack(List.of(c.get("in.a"), c.get("in.b")), (int) c.number("dim")));
        OPS.put("gather", c -> c.get("in.x").gather((int) c.number("dim"), c.get("in.index")));
        OPS.put("index_select", c -> c.get("in.x").indexSelect((int) c.number("dim"), c.get("in.index")));
        OPS.put("where", c -> Tensor.where(c.get("in.condition"), c.get("in.a"), c.get("in.b")));
        OPS.put("masked_fill", c -> c.get("in.x").maskedFill(c.get("in.mask"), (float) c.number("value")));
        OPS.put("cross_entropy", c -> F.crossEntropy(c.get("in.logits"), c.get("in.target"), classOptions(c)));
        OPS.put("nll_loss", c -> F.nllLoss(c.get("in.input"), c.get("in.target"), classOptions(c)));
        OPS.put("mse_loss", c -> F.mseLoss(c.get("in.input"), c.get("in.target"), reduction(c)));
        OPS.put("l1_loss", c -> F.l1Loss(c.get("in.input"), c.get("in.target"), reduction(c)));
        OPS.put("huber_loss", c -> F.huberLoss(c.get("in.input"), c.get("in.target"), reduction(c),
                (float) c.number("delta")));
        OPS.put("binary_cross_entropy", c -> F.binaryCrossEntropy(c.get("in.input"), c.get("in.target"), null,
                reduction(c)));
        OPS.put("binary_cross_entropy_with_logits", c -> F.binaryCrossEntropyWithLogits(c.get("in.input"),
                c.get("in.target"), null, c.has("pos_weight") ? Tensor.vector(floats(c.args().get("pos_weight"))) : null,
                reduction(c)));
        OPS.put("linear", c -> F.linear(c.get("in.x"), c.get("param.weight"),
                c.tensors().get("param.bias")));
    }

    /** Ops of the foundation issue: every one of them must have reference cases run here. */
    private static final Set<String> REQUIRED = Set.of("add", "sub", "mul", "div", "pow", "exp", "log", "sqrt",
            "abs", "sin", "cos", "tanh", "sigmoid", "relu", "leaky_relu", "elu", "gelu", "gelu_tanh", "silu",
            "softplus", "clamp", "sum", "mean", "max", "var", "logsumexp", "softmax", "log_softmax", "matmul",
            "permute", "transpose_reshape", "slice", "cat", "stack", "gather", "index_select", "where",
            "masked_fill", "cross_entropy", "nll_loss", "mse_loss", "l1_loss", "huber_loss", "binary_cross_entropy",
            "binary_cross_entropy_with_logits");

    private static final List<ReferenceCases.Case> CASES = ReferenceCases.all();

    @TestFactory
    Stream<DynamicTest> pytorchReferenceCases() {
        return CASES.stream()
                .filter(c -> OPS.containsKey(c.op()))
                .map(c -> DynamicTest.dynamicTest(c.name() + " (" + c.op() + ")", () -> check(c)));
    }

    @Test
    void everyFoundationOpHasReferenceCasesThatRun() {
        Set<String> inIndex = new TreeSet<>();
        CASES.forEach(c -> inIndex.add(c.op()));
        for (String op : REQUIRED) {
            assertTrue(inIndex.contains(op), "INDEX.json has no case for " + op);
            assertTrue(OPS.containsKey(op), "no runner for reference op " + op);
        }
        long run = CASES.stream().filter(c -> OPS.containsKey(c.op())).count();
        assertTrue(run >= 59, "expected at least 59 op cases, ran " + run);
    }

    private static void check(ReferenceCases.Case c) {
        // fresh leaves: inputs and parameters that have an expected gradient require grad
        Map<String, Tensor> leaves = new LinkedHashMap<>();
        c.tensors().forEach((k, v) -> {
            if (k.startsWith("in.") || k.startsWith("param.")) {
                Tensor t = v.copy();
                if (t.dtype() == DType.FLOAT32 && c.tensors().containsKey("grad." + k)) {
                    t.requiresGrad(true);
                }
                leaves.put(k, t);
            } else {
                leaves.put(k, v);
            }
        });
        ReferenceCases.Case live = new ReferenceCases.Case(c.name(), c.op(), c.args(), leaves);
        Tensor out = OPS.get(c.op()).apply(live);
        assertClose(c.name() + ": out", out, c.get("out"));
        out.backward(c.get("grad_out"));
        List<String> checked = new ArrayList<>();
        for (Map.Entry<String, Tensor> e : c.tensors().entrySet()) {
            if (!e.getKey().startsWith("grad.") || e.getKey().equals("grad_out")) {
                continue;
            }
            String leafName = e.getKey().substring("grad.".length());
            Tensor grad = leaves.get(leafName).grad();
            assertNotNull(grad, c.name() + ": no gradient reached " + leafName);
            assertClose(c.name() + ": " + e.getKey(), grad, e.getValue());
            checked.add(leafName);
        }
        assertTrue(!checked.isEmpty(), c.name() + " has no gradient to compare");
    }

    private static boolean keepdim(ReferenceCases.Case c) {
        return Boolean.TRUE.equals(c.args().get("keepdim"));
    }

    private static Reduction reduction(ReferenceCases.Case c) {
        Object r = c.args().getOrDefault("reduction", "mean");
        return Reduction.valueOf(((String) r).toUpperCase());
    }

    private static ClassLossOptions classOptions(ReferenceCases.Case c) {
        ClassLossOptions o = ClassLossOptions.defaults().withReduction(reduction(c));
        if (c.has("ignore_index")) {
            o = o.withIgnoreIndex((long) c.number("ignore_index"));
        }
        if (c.has("label_smoothing")) {
            o = o.withLabelSmoothing((float) c.number("label_smoothing"));
        }
        return o;
    }

    @SuppressWarnings("unchecked")
    private static int[] ints(Object list) {
        return ((List<Object>) list).stream().mapToInt(o -> ((Number) o).intValue()).toArray();
    }

    @SuppressWarnings("unchecked")
    private static float[] floats(Object list) {
        List<Object> l = (List<Object>) list;
        float[] out = new float[l.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = ((Number) l.get(i)).floatValue();
        }
        return out;
    }
}
