package dev.backprop.autograd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

class AutogradTest {

    private static Tensor leaf(float... v) {
        return Tensor.vector(v).requiresGrad(true);
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsUntilZeroed() {
        Tensor x = leaf(1, 2, 3);
        x.mul(x).sum().backward();
        assertArrayEquals(new float[] {2, 4, 6}, x.grad().toFloatArray());
        x.mul(x).sum().backward();
        assertArrayEquals(new float[] {4, 8, 12}, x.grad().toFloatArray());
        x.zeroGrad();
        assertNull(x.grad());
    }

    @Test
    void fanOutSumsTheGradientsOfEveryUse() {
        Tensor x = leaf(2);
        Tensor y = x.mul(3f);
        // z = y * y + y  =>  dz/dx = (2y + 1) * 3 = 39 at x = 2
        y.mul(y).add(y).sum().backward();
        assertEquals(39f, x.grad().item(), 0f);
    }

    @Test
    void sameLeafOnBothSidesOfAnOp() {
        Tensor x = leaf(3);
        x.mul(x).backward();
        assertEquals(6f, x.grad().item(), 0f);
    }

    @Test
    void noGradRecordsNothingAndRestoresTheMode() {
        Tensor x = leaf(1, 2);
        Tensor y;
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            y = x.mul(2f).exp();
            assertFalse(GradMode.isEnabled());
        }
        assertTrue(GradMode.isEnabled());
        assertNull(y.gradFn());
        assertFalse(y.requiresGrad());
        assertThrows(IllegalStateException.class, y::backward);
        assertFalse(GradMode.noGrad(() -> x.add(1f)).requiresGrad());
    }

    @Test
    void noGradKeepsNoIntermediateValuesAlive() {
        Tensor x = Tensor.randn(new Generator(1), 64, 64).requiresGrad(true);
        Tensor withGrad = mlpLike(x);
        Tensor without = GradMode.noGrad(() -> mlpLike(x));
        // the recorded graph keeps every intermediate tensor reachable from the output
        assertTrue(retainedElements(withGrad) >= 5 * 64 * 64, "graph should retain intermediates");
        assertEquals(0, retainedElements(without));
    }

    private static Tensor mlpLike(Tensor x) {
        Tensor h = x;
        for (int i = 0; i < 5; i++) {
            h = h.matmul(x).tanh();
        }
        return h.sum();
    }

    /** Elements of every non-leaf tensor the output's graph refers to. */
    private static long retainedElements(Tensor out) {
        if (out.gradFn() == null) {
            return 0;
        }
        Set<Node> seen = Collections.newSetFromMap(new IdentityHashMap<>());
        List<Node> stack = new ArrayList<>(List.of(out.gradFn()));
        long total = 0;
        while (!stack.isEmpty()) {
            Node n = stack.remove(stack.size() - 1);
            if (!seen.add(n)) {
                continue;
            }
            for (int i = 0; i < n.numInputs(); i++) {
                Tensor t = n.input(i);
                if (t != null && t.gradFn() != null) {
                    total += t.numel();
                    stack.add(t.gradFn());
                }
            }
        }
        return total;
    }

    @Test
    void secondBackwardIsRefusedWithoutRetainGraph() {
        Tensor x = leaf(1, 2);
        Tensor loss = x.exp().sum();
        loss.backward();
        IllegalStateException e = assertThrows(IllegalStateException.class, loss::backward);
        assertTrue(e.getMessage().contains("second time") && e.getMessage().contains("retainGraph"), e.getMessage());
    }

    @Test
    void retainGraphAllowsASecondBackward() {
        Tensor x = leaf(0, 1);
        Tensor loss = x.exp().sum();
        loss.backward(Tensor.scalar(1f), true);
        loss.backward(Tensor.scalar(1f), true);
        assertArrayEquals(new float[] {2, 2 * (float) Math.E}, x.grad().toFloatArray(), 1e-6f);
    }

    @Test
    void backwardOnANonScalarNeedsAGradient() {
        Tensor y = leaf(1, 2).mul(2f);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, y::backward);
        assertTrue(e.getMessage().contains("scalar") && e.getMessage().contains("[2]"), e.getMessage());
        y.backward(Tensor.vector(1, 10));
        assertNotNull(y.gradFn().input(0).grad());
        IllegalArgumentException wrongShape = assertThrows(IllegalArgumentException.class,
                () -> leaf(1, 2).mul(2f).backward(Tensor.ones(3)));
        assertTrue(wrongShape.getMessage().contains("[3]"), wrongShape.getMessage());
    }

    @Test
    void hooksSeeAndCanReplaceGradients() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(3f);
        AtomicReference<Tensor> seenAtH = new AtomicReference<>();
        h.registerHook(g -> {
            seenAtH.set(g.copy());
            return g.mul(10f); // scale the gradient flowing further back
        });
        HookHandle leafHook = x.registerHook(g -> g.add(1f));
        h.sum().backward();
        assertArrayEquals(new float[] {1, 1}, seenAtH.get().toFloatArray());
        assertArrayEquals(new float[] {31, 31}, x.grad().toFloatArray());
        leafHook.remove();
        x.zeroGrad();
        x.mul(3f).sum().backward();
        assertArrayEquals(new float[] {3, 3}, x.grad().toFloatArray());
    }

    @Test
    void retainGradKeepsANonLeafGradient() {
        Tensor x = leaf(1, 2);
        Tensor h = x.mul(2f).retainGrad();
        h.mul(h).sum().backward();
        assertArrayEquals(new float[] {4, 8}, h.grad().toFloatArray());
    }

    @Test
    void detachCutsTheGraph() {
        Tensor x = leaf(1, 2);
        Tensor y = x.mul(2f).detach().mul(x).sum();
        y.backward();
        assertArrayEquals(new float[] {2, 4}, x.grad().toFloatArray()); // only the direct use of x
    }

    @Test
    void veryDeepGraphsDoNotOverflowTheStack() {
        Tensor x = leaf(1);
        Tensor y = x;
        for (int i = 0; i < 50_000; i++) {
            y = y.add(1f);
        }
        y.sum().backward();
        assertEquals(1f, x.grad().item());
    }

    @Test
    void leavesThatRequireGradCannotBeModifiedInPlaceWhileRecording() {
        Tensor x = leaf(1, 2);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> x.addInPlace(Tensor.ones(2)));
        assertTrue(e.getMessage().contains("noGrad"), e.getMessage());
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            x.addInPlace(Tensor.ones(2)); // an optimizer step
        }
        assertArrayEquals(new float[] {2, 3}, x.toFloatArray());
    }

    @Test
    void anomalyModeNamesTheOpAndTheUserLineOfAForwardNaN() {
        Tensor x = leaf(1, -1);
        try (GradMode.Scope ignored = Anomaly.enable()) {
            NonFiniteValueException e = assertThrows(NonFiniteValueException.class, () -> x.log());
            assertEquals("log", e.op());
            assertFalse(e.inBackward());
            assertNotNull(e.callSite());
            assertEquals(AutogradTest.class.getName(), e.callSite().getClassName());
            assertTrue(e.getMessage().contains("'log'") && e.getMessage().contains("NaN")
                    && e.getMessage().contains("AutogradTest.java"), e.getMessage());
        }
        assertTrue(x.log().isNan().toBoolArray()[1], "outside anomaly mode NaN flows silently");
    }

    @Test
    void anomalyModeTracesABackwardInfinityToTheForwardCall() {
        Tensor x = leaf(0, 4);
        try (GradMode.Scope ignored = Anomaly.enable()) {
            Tensor y = x.sqrt().sum(); // finite forward; d sqrt / dx = inf at 0
            NonFiniteValueException e = assertThrows(NonFiniteValueException.class, y::backward);
            assertEquals("sqrt", e.op());
            assertTrue(e.inBackward());
            assertEquals(AutogradTest.class.getName(), e.callSite().getClassName());
            assertTrue(e.getMessage().contains("+Inf") && e.getMessage().contains("backward"), e.getMessage());
        }
    }
}
