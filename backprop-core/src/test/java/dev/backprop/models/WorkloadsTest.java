package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.nn.F;
import dev.backprop.nn.Module;
import dev.backprop.optim.Adam;
import dev.backprop.optim.AdamW;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.ParamGroup;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import org.junit.jupiter.api.Test;

/** The W1–W4 factories mirror models.py: parameter counts, keys, shapes and optimizer settings. */
class WorkloadsTest {
    /** models.py's w1_model() and w2_model() parameter counts (src/test/python/models_reference.py). */
    static final long W1_PARAMETERS = 535_818;
    static final long W2_PARAMETERS = 421_642;

    @Test
    void w1AndW2MatchPyTorch() {
        check("w1", Workloads.w1Model(), W1_PARAMETERS);
        check("w2", Workloads.w2Model(), W2_PARAMETERS);
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            assertArrayEquals(new int[] {3, 10}, Workloads.w1Model().forward(Tensor.randn(new Generator(1), 3, 784))
                    .shape());
            assertArrayEquals(new int[] {2, 10}, Workloads.w2Model()
                    .forward(Tensor.randn(new Generator(1), 2, 1, 28, 28)).shape());
        }
    }

    @Test
    void w3AndW4MatchPyTorch() {
        check("w3", Workloads.w3Model(), GPTTest.W3_PARAMETERS);
        check("w4", Workloads.w4Model(), CharLSTMTest.W4_PARAMETERS);
    }

    private static void check(String id, Module model, long parameters) {
        ModelReferences.Workload w = ModelReferences.workload(id);
        assertEquals(parameters, model.parameterCount(), id + " parameters");
        assertEquals(w.parameters(), model.parameterCount(), id + " parameters (INDEX.json)");
        assertEquals(w.stateDictKeys(), new ArrayList<>(model.stateDict().keySet()), id + " state-dict keys");
    }

    @Test
    void optimizersAreTheReferences() {
        Optimizer w1 = Workloads.w1Optimizer(Workloads.w1Model());
        assertInstanceOf(Adam.class, w1);
        assertTrue(!(w1 instanceof AdamW));
        assertOptions(w1, 1e-3, "beta1", 0.9, "beta2", 0.999, "eps", 1e-8, "weight_decay", 0);

        Optimizer w2 = Workloads.w2Optimizer(Workloads.w2Model());
        assertInstanceOf(SGD.class, w2);
        assertOptions(w2, 0.01, "momentum", 0.9, "dampening", 0, "weight_decay", 0, "nesterov", 0);

        Module gpt = new GPT(GPTTest.SMALL, new Generator(1));
        Optimizer w3 = Workloads.w3Optimizer(gpt);
        assertInstanceOf(AdamW.class, w3);
        assertOptions(w3, 1e-3, "beta1", 0.9, "beta2", 0.99, "eps", 1e-8, "weight_decay", 0.1);
        assertEquals(gpt.parameters().size(), w3.paramGroups().get(0).params().size(), "decay on every parameter");
        assertEquals(3e-4, Workloads.w3Optimizer(gpt, 3e-4).lr());

        Optimizer w4 = Workloads.w4Optimizer(new CharLSTM(new CharLSTM.Config(11, 8, 12, 2)));
        assertInstanceOf(Adam.class, w4);
        assertTrue(!(w4 instanceof AdamW));
        assertOptions(w4, 1e-3, "beta1", 0.9, "beta2", 0.999, "eps", 1e-8, "weight_decay", 0);
    }

    private static void assertOptions(Optimizer opt, double lr, Object... nameValue) {
        assertEquals(1, opt.paramGroups().size());
        ParamGroup g = opt.paramGroups().get(0);
        assertEquals(lr, g.lr(), 0);
        for (int i = 0; i < nameValue.length; i += 2) {
            assertEquals(((Number) nameValue[i + 1]).doubleValue(), g.get((String) nameValue[i]), 1e-15,
                    (String) nameValue[i]);
        }
    }

    @Test
    void sequenceLossIsCrossEntropyOverEveryPosition() {
        Tensor logits = Tensor.randn(new Generator(4), 2, 3, 5);
        Tensor targets = Tensor.ofLongs(new long[] {0, 1, 2, 3, 4, 0}, 2, 3);
        float loss = Workloads.sequenceLoss(logits, targets).item();
        assertEquals(F.crossEntropy(logits.reshape(6, 5), targets.reshape(6)).item(), loss, 0f);
        double manual = 0;
        for (int i = 0; i < 6; i++) {
            Tensor row = logits.reshape(6, 5).select(0, i);
            manual += row.logsumexp(0, false).item() - row.get((int) targets.reshape(6).getLong(i));
        }
        assertEquals(manual / 6, loss, 1e-5);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Workloads.sequenceLoss(logits, Tensor.ofLongs(new long[6], 3, 2)));
        assertTrue(e.getMessage().contains("(B, T, V)") && e.getMessage().contains("[3, 2]"), e.getMessage());
    }
}
