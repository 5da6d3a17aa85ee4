package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The W4 CharLSTM: PyTorch's sizes and keys, default initialisation, shapes and input checks. */
class CharLSTMTest {
    /**
     * Parameters of PyTorch's models.w4_model() (printed by src/test/python/models_reference.py,
     * also in reference-models/INDEX.json): emb 65·128 + LSTM layer 0 395,264 + layer 1 526,336
     * + head 256·65 + 65.
     */
    static final long W4_PARAMETERS = 946_625;

    @Test
    void w4HasPyTorchsParameterCountAndKeys() {
        CharLSTM model = Workloads.w4Model(new Generator(1));
        assertEquals(W4_PARAMETERS, model.parameterCount());
        ModelReferences.Workload w4 = ModelReferences.workload("w4");
        assertEquals(w4.parameters(), model.parameterCount(), "INDEX.json");
        assertEquals(w4.stateDictKeys(), new ArrayList<>(model.stateDict().keySet()), "state-dict keys, in order");
        assertEquals(List.of("emb.weight", "lstm.weight_ih_l0", "lstm.weight_hh_l0", "lstm.bias_ih_l0",
                "lstm.bias_hh_l0", "lstm.weight_ih_l1", "lstm.weight_hh_l1", "lstm.bias_ih_l1", "lstm.bias_hh_l1",
                "head.weight", "head.bias"), w4.stateDictKeys());
        assertEquals(new CharLSTM.Config(65, 128, 256, 2), CharLSTM.Config.w4());
        assertTrue(model.lstm().options().batchFirst());
    }

    @Test
    void pytorchDefaultInitialisationFromTheGenerator() {
        Generator dflt = Generator.defaultGenerator();
        long[] before = dflt.state();
        CharLSTM model = Workloads.w4Model(new Generator(9));
        assertArrayEquals(before, dflt.state(), "an explicit generator leaves the default one as it was");
        Map<String, Tensor> p = model.namedParameters();
        double lstmBound = 1 / Math.sqrt(256);
        double headBound = 1 / Math.sqrt(256);
        p.forEach((k, v) -> {
            if (k.startsWith("lstm.")) {
                assertTrue(maxAbs(v) <= lstmBound && maxAbs(v) > 0.9 * lstmBound, k + " in U(±1/sqrt(hidden))");
            } else if (k.startsWith("head.")) {
                assertTrue(maxAbs(v) <= headBound && maxAbs(v) > 0.9 * headBound, k + " in U(±1/sqrt(in))");
            }
        });
        float[] e = p.get("emb.weight").toFloatArray();
        double sq = 0;
        for (float x : e) {
            sq += (double) x * x;
        }
        assertEquals(1.0, Math.sqrt(sq / e.length), 0.05, "embedding N(0, 1)");
        CharLSTM again = Workloads.w4Model(new Generator(9));
        model.stateDict().forEach((k, v) -> assertArrayEquals(v.toFloatArray(),
                again.stateDict().get(k).toFloatArray(), k));
    }

    private static double maxAbs(Tensor t) {
        double m = 0;
        for (float x : t.toFloatArray()) {
            m = Math.max(m, Math.abs(x));
        }
        return m;
    }

    @Test
    void forwardShapeAndChecks() {
        CharLSTM model = new CharLSTM(new CharLSTM.Config(11, 8, 12, 2), new Generator(2));
        Tensor logits = model.forward(Tensor.ofLongs(new long[] {1, 2, 3, 4, 5, 6}, 2, 3));
        assertArrayEquals(new int[] {2, 3, 11}, logits.shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> model.forward(Tensor.zeros(2, 3)));
        assertTrue(e.getMessage().contains("int64 token indices (B, T)") && e.getMessage().contains("[2, 3]"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CharLSTM.Config(65, 0, 256, 2));
    }
}
