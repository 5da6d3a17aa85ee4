package dev.backprop.optim;

import static dev.backprop.ops.ReferenceCases.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.ops.ReferenceCases;
import dev.backprop.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The optimizer, schedule and clipping cases of ../shared/reference: parameters after each of
 * three steps with fixed gradients, the learning rate used at each of 25 steps, clipped gradients
 * and the total norm — all within |a - b| <= 1e-5 + 1e-4 |b| of PyTorch.
 */
class ReferenceOptimTest {

    private static boolean isCase(ReferenceCases.Case c, String op) {
        return c.op().equals(op);
    }

    @TestFactory
    Stream<DynamicTest> optimizersMatchPyTorchOverThreeSteps() {
        List<ReferenceCases.Case> cases = ReferenceCases.all().stream().filter(c -> isCase(c, "optimizer")).toList();
        assertEquals(8, cases.size());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            Tensor p = c.get("param.p0").copy().requiresGrad(true);
            Optimizer opt = optimizer(c.args(), List.of(p));
            for (int step = 1; step <= 3; step++) {
                p.setGrad(c.get("grad.step" + step).copy());
                opt.step();
                assertClose(c.name() + " after step " + step, p.toFloatArray(),
                        c.get("param.after" + step).toFloatArray());
            }
        }));
    }

    private static Optimizer optimizer(Map<String, Object> a, List<Tensor> params) {
        double lr = num(a, "lr", 0);
        double wd = num(a, "weight_decay", 0);
        double[] betas = a.containsKey("betas")
                ? ((List<?>) a.get("betas")).stream().mapToDouble(o -> ((Number) o).doubleValue()).toArray()
                : new double[] {0.9, 0.999};
        return switch ((String) a.get("type")) {
            case "sgd" -> new SGD(params, lr, num(a, "momentum", 0), 0, wd, Boolean.TRUE.equals(a.get("nesterov")));
            case "adam" -> new Adam(params, lr, betas[0], betas[1], num(a, "eps", 1e-8), wd);
            case "adamw" -> new AdamW(params, lr, betas[0], betas[1], num(a, "eps", 1e-8), wd);
            case "rmsprop" -> new RMSprop(params, lr, num(a, "alpha", 0.99), num(a, "eps", 1e-8), wd, 0, false);
            case "adagrad" -> new Adagrad(params, lr, 0, wd, 0, num(a, "eps", 1e-10));
            default -> throw new IllegalArgumentException("unknown optimizer " + a.get("type"));
        };
    }

    @TestFactory
    Stream<DynamicTest> schedulesMatchPyTorchOver25Steps() {
        Map<String, BiFunction<Optimizer, Map<String, Object>, LRScheduler>> make = Map.of(
                "step", (o, a) -> LRScheduler.step(o, (int) num(a, "step_size", 0), num(a, "gamma", 0)),
                "exponential", (o, a) -> LRScheduler.exponential(o, num(a, "gamma", 0)),
                "cosine", (o, a) -> LRScheduler.cosine(o, (int) num(a, "T_max", 0), num(a, "eta_min", 0)),
                "linear", (o, a) -> LRScheduler.linear(o, num(a, "start_factor", 0), num(a, "end_factor", 1),
                        (int) num(a, "total_iters", 0)),
                "onecycle", (o, a) -> LRScheduler.oneCycle(o, num(a, "max_lr", 0), (int) num(a, "total_steps", 0),
                        num(a, "pct_start", 0.3), num(a, "div_factor", 25), num(a, "final_div_factor", 1e4)));
        List<ReferenceCases.Case> cases = ReferenceCases.all().stream().filter(c -> isCase(c, "lr_schedule")).toList();
        assertEquals(6, cases.size());
        return cases.stream().map(c -> DynamicTest.dynamicTest(c.name(), () -> {
            float[] expected = c.get("lrs").toFloatArray();
            float[] actual = new float[expected.length];
            Optimizer opt = new SGD(List.of(Tensor.zeros(1).requiresGrad(true)), 0.1);
            String type = (String) c.args().get("type");
            if (type.equals("reduce_on_plateau")) {
                ReduceLROnPlateau s = new ReduceLROnPlateau(opt, ReduceLROnPlateau.Mode.MIN, num(c.args(), "factor", 0),
                        (int) num(c.args(), "patience", 0), num(c.args(), "threshold", 1e-4), true, 0, 0, 1e-8);
                float[] losses = c.get("losses").toFloatArray();
                for (int k = 0; k < expected.length; k++) {
                    actual[k] = (float) opt.lr();
                    s.step(losses[k]);
                }
            } else {
                LRScheduler s = make.get(type).apply(opt, c.args());
                for (int k = 0; k < expected.length; k++) {
                    actual[k] = (float) opt.lr();
                    s.step();
                }
            }
            assertClose(c.name(), actual, expected);
        }));
    }

    @Test
    void clipGradNormMatchesPyTorch() {
        ReferenceCases.Case c = ReferenceCases.all().stream().filter(x -> isCase(x, "clip_grad_norm")).findFirst()
                .orElseThrow();
        Tensor a = Tensor.zeros(3, 4).requiresGrad(true);
        Tensor b = Tensor.zeros(5).requiresGrad(true);
        a.setGrad(c.get("grad.before.0").copy());
        b.setGrad(c.get("grad.before.1").copy());
        double total = Clip.gradNorm(List.of(a, b), 1.0);
        assertClose("total norm", new float[] {(float) total}, c.get("total_norm").toFloatArray());
        assertClose("grad 0", a.grad().toFloatArray(), c.get("grad.after.0").toFloatArray());
        assertClose("grad 1", b.grad().toFloatArray(), c.get("grad.after.1").toFloatArray());
    }

    @Test
    void optimizerStateRoundTripsExactly() {
        Function<List<Tensor>, Optimizer> make = ps -> new Adam(ps, 0.01, 0.9, 0.99, 1e-8, 0.1);
        Tensor p = Tensor.randn(new dev.backprop.tensor.Generator(3), 4, 3).requiresGrad(true);
        Optimizer a = make.apply(List.of(p));
        Tensor[] grads = new Tensor[5];
        for (int i = 0; i < 5; i++) {
            grads[i] = Tensor.randn(new dev.backprop.tensor.Generator(10 + i), 4, 3);
        }
        for (int i = 0; i < 2; i++) {
            p.setGrad(grads[i].copy());
            a.step();
        }
        a.setLr(0.003);
        Optimizer.State saved = a.state();
        Tensor q = p.copy().requiresGrad(true);
        for (int i = 2; i < 5; i++) {
            p.setGrad(grads[i].copy());
            a.step();
        }
        Optimizer b = make.apply(List.of(q));
        b.loadState(saved);
        assertEquals(0.003, b.lr());
        for (int i = 2; i < 5; i++) {
            q.setGrad(grads[i].copy());
            b.step();
        }
        assertTrue(Arrays.equals(p.toFloatArray(), q.toFloatArray()), "a resumed optimizer continues bit for bit");
    }

    private static double num(Map<String, Object> a, String key, double fallback) {
        Object v = a.get(key);
        return v == null ? fallback : ((Number) v).doubleValue();
    }

}
