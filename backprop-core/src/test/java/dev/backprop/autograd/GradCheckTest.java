package dev.backprop.autograd;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.check.GradCheckSuite;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

class GradCheckTest {

    @TestFactory
    Stream<DynamicTest> everyOpAndLayerPassesTheGradientCheck() {
        return GradCheckSuite.all().entrySet().stream().flatMap(group -> group.getValue().stream()
                .map(c -> DynamicTest.dynamicTest(group.getKey() + ": " + c.name(), () -> {
            GradCheck.Report r = c.run();
            assertTrue(r.passed(), c.name() + ": " + r.summary());
            assertTrue(r.elementsChecked() > 0, c.name() + " checked nothing");
        })));
    }

    /** y = x * x with a backward chosen by the test. */
    private static final class Square extends Node {
        private final Function<Tensor, Tensor> grad;

        Square(Tensor x, Function<Tensor, Tensor> grad) {
            super("square", x);
            this.grad = grad;
        }

        static Tensor apply(Tensor x, Function<Tensor, Tensor> grad) {
            Tensor y = x.detach().mul(x.detach());
            return record("square", y, needsGrad(x) ? new Square(x, grad) : null);
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            return new Tensor[] {grad.apply(dy)};
        }
    }

    /** y = W x (W square) with a backward for W chosen by the test. */
    private static final class MatVec extends Node {
        private final boolean transposeGrad;

        MatVec(Tensor w, Tensor x, boolean transposeGrad) {
            super("matvec", w, x);
            this.transposeGrad = transposeGrad;
        }

        @Override
        protected Tensor[] backward(Tensor dy) {
            Tensor dw = dy.unsqueeze(1).matmul(input(1).unsqueeze(0)); // outer(dy, x)
            return new Tensor[] {transposeGrad ? dw.t().contiguous() : dw, input(0).t().matmul(dy)};
        }
    }

    private static Tensor x(int... shape) {
        return Tensor.randn(new Generator(7), shape).requiresGrad(true);
    }

    @Test
    void acceptsACorrectCustomGradient() {
        Tensor x = x(4, 5);
        assertTrue(GradCheck.check(in -> Square.apply(in.get(0), dy -> dy.mul(in.get(0)).mul(2f)), x).passed());
    }

    @Test
    void rejectsAGradientThatMissesAProductRuleTerm() {
        Tensor x = x(4, 5);
        assertFalse(GradCheck.check(in -> Square.apply(in.get(0), dy -> dy.mul(in.get(0))), x).passed());
    }

    @Test
    void rejectsAGradientOffByThreePercent() {
        Tensor x = x(4, 5);
        assertFalse(GradCheck.check(in -> Square.apply(in.get(0), dy -> dy.mul(in.get(0)).mul(2.06f)), x).passed());
    }

    @Test
    void rejectsASignError() {
        Tensor x = x(4, 5);
        assertFalse(GradCheck.check(in -> Square.apply(in.get(0), dy -> dy.mul(in.get(0)).mul(-2f)), x).passed());
    }

    @Test
    void rejectsAGradientThatIsZero() {
        Tensor x = x(3);
        assertFalse(GradCheck.check(in -> Square.apply(in.get(0), dy -> Tensor.zerosLike(dy)), x).passed());
    }

    @Test
    void rejectsATransposedWeightGradient() {
        Function<List<Tensor>, Tensor> right = in -> Node.record("matvec",
                in.get(0).detach().matmul(in.get(1).detach()), new MatVec(in.get(0), in.get(1), false));
        Function<List<Tensor>, Tensor> wrong = in -> Node.record("matvec",
                in.get(0).detach().matmul(in.get(1).detach()), new MatVec(in.get(0), in.get(1), true));
        assertTrue(GradCheck.check(right, x(4, 4), x(4)).passed());
        assertFalse(GradCheck.check(wrong, x(4, 4), x(4)).passed());
    }

    @Test
    void assertGradientsExplainsTheFailure() {
        Tensor x = x(2, 2);
        GradCheck.GradCheckFailedException e = assertThrows(GradCheck.GradCheckFailedException.class,
                () -> GradCheck.assertGradients(in -> Square.apply(in.get(0), dy -> dy), List.of(x),
                        GradCheck.Options.defaults()));
        assertTrue(e.getMessage().contains("analytic") && e.getMessage().contains("numeric"), e.getMessage());
    }

    @Test
    void checksParametersReadByAClosureAndRestoresThem() {
        Tensor w = x(3, 2);
        float[] before = w.toFloatArray();
        Tensor input = Tensor.randn(new Generator(1), 4, 3);
        GradCheck.Report r = GradCheck.check(() -> input.matmul(w).tanh().sum(), List.of(w),
                GradCheck.Options.defaults());
        assertTrue(r.passed(), r.summary());
        assertTrue(java.util.Arrays.equals(before, w.toFloatArray()), "parameters must be restored");
        assertTrue(w.grad() == null, "grad restored to its previous value (none)");
    }
}
