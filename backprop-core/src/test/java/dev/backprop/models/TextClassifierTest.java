package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

class TextClassifierTest {
    private static final int PAD = 9;

    private static TextClassifier model() {
        Generator.defaultGenerator().manualSeed(7);
        return new TextClassifier(new TextClassifier.Config(10, PAD, 4, 8, List.of(1, 2, 3), 5, 0.3f, 0.5f));
    }

    private static Tensor logits(TextClassifier m, long[] ids, int b, int t) {
        try (GradMode.Scope ignored = GradMode.noGrad()) {
            return m.forward(Tensor.ofLongs(ids, b, t));
        }
    }

    @Test
    void paddingDoesNotChangeTheLogits() {
        TextClassifier m = model();
        m.eval();
        Tensor alone = logits(m, new long[] {3, 1, 4}, 1, 3);
        assertArrayEquals(new int[] {1, 4}, alone.shape());
        Tensor padded = logits(m, new long[] {3, 1, 4, PAD, PAD, PAD, PAD}, 1, 7);
        assertTrue(alone.allClose(padded, 1e-5, 1e-6), alone + " vs " + padded);
        // in a batch with a longer sequence, and with a one-token sequence padded far
        Tensor batch = logits(m, new long[] {
            3, 1, 4, PAD, PAD, PAD,
            5, 0, 2, 6, 5, 3,
            7, PAD, PAD, PAD, PAD, PAD}, 3, 6);
        assertTrue(alone.allClose(batch.slice(0, 0, 1), 1e-5, 1e-6), alone + " vs " + batch);
        Tensor longAlone = logits(m, new long[] {5, 0, 2, 6, 5, 3}, 1, 6);
        assertTrue(longAlone.allClose(batch.slice(0, 1, 2), 1e-5, 1e-6));
        Tensor shortAlone = logits(m, new long[] {7}, 1, 1);
        assertTrue(shortAlone.allClose(batch.slice(0, 2, 3), 1e-5, 1e-6));
    }

    @Test
    void paddingGetsNoGradientAndChangesNothingInTraining() {
        TextClassifier m = model();
        m.eval(); // no dropout, so the two passes are comparable
        Tensor a = m.forward(Tensor.ofLongs(new long[] {3, 1, PAD, PAD}, 1, 4));
        a.sum().backward();
        float[] padRow = m.emb().weight().grad().select(0, PAD).toFloatArray();
        for (float g : padRow) {
            assertEquals(0f, g);
        }
        float[] weightRow = m.emb().weight().select(0, PAD).toFloatArray();
        for (float w : weightRow) {
            assertEquals(0f, w, "the padding embedding is zero");
        }
    }

    @Test
    void trainingModeRunsAndBadInputIsAClearError() {
        TextClassifier m = model();
        m.train();
        Tensor out = m.forward(Tensor.ofLongs(new long[] {1, 2, 3, 4, PAD, PAD}, 2, 3));
        assertArrayEquals(new int[] {2, 4}, out.shape());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> m.forward(Tensor.ofLongs(new long[] {1, 12}, 1, 2)));
        assertTrue(e.getMessage().contains("token id 12 at row 0, position 1 is outside the vocabulary [0, 10)"),
                e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> m.forward(Tensor.zeros(1, 3)));
    }

    @Test
    void configRoundTripsAndChecksValues() {
        TextClassifier.Config c = TextClassifier.Config.defaults(500, 499, 77);
        assertEquals(c, TextClassifier.Config.fromMap(c.toMap()));
        assertEquals(4 * 192 + 192, c.features());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new TextClassifier.Config(10, -1, 3, 8, List.of(3), 4, 0f, 0f));
        assertTrue(e.getMessage().contains("padId must be in [0, 10), got -1"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new TextClassifier.Config(10, 0, 3, 8, List.of(), 4, 0f, 0f));
        assertThrows(IllegalArgumentException.class, () -> new TextClassifier.Config(10, 0, 3, 8, List.of(2), 4, 1f, 0f));
    }
}
