package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataLoader;
import dev.backprop.data.TensorDataset;
import dev.backprop.nn.F;
import dev.backprop.nn.Linear;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The learning-rate range test on a linear regression whose good rates are known. */
class LrFinderTest {

    /** y = x·w + noise, 8 features: SGD converges for lr up to about 2/λmax ≈ 1 and diverges above. */
    private static DataLoader data() {
        Generator g = new Generator(3);
        Tensor x = Tensor.randn(g, 512, 8);
        Tensor w = Tensor.randn(g, 8, 1);
        Tensor y = x.matmul(w).add(Tensor.randn(g, 512, 1).mul(0.01f));
        return DataLoader.builder(new TensorDataset(x, y)).batchSize(64).shuffle(true).seed(1).build();
    }

    @Test
    void suggestsARateWhereTheLossFallsAndStopsWhenItDiverges() {
        Generator.defaultGenerator().manualSeed(5);
        Linear model = new Linear(8, 1);
        SGD sgd = new SGD(model.parameters(), 0.123);
        LrFinder.Result r = LrFinder.run(model, sgd, F::mseLoss, data(), 1e-5, 100, 200);
        assertTrue(r.diverged(), "SGD at lr 100 on this problem must blow up");
        assertTrue(r.points().size() < 200, "the sweep stops at divergence");
        assertTrue(r.suggestion() > 1e-3 && r.suggestion() < 1.5, "suggestion " + r.suggestion());
        assertTrue(r.minLossLr() > r.suggestion() / 100 && r.minLossLr() < 3, "lowest loss at " + r.minLossLr());
        List<LrFinder.Point> p = r.points();
        for (int i = 1; i < p.size(); i++) {
            assertEquals(p.get(i - 1).lr() * Math.pow(1e7, 1.0 / 199), p.get(i).lr(), 1e-9 * p.get(i).lr());
        }
        assertEquals(0.123, sgd.lr(), "the optimizer's rate is put back");
    }

    @Test
    void weightsAndOptimizerStateArePutBack() {
        Generator.defaultGenerator().manualSeed(6);
        Linear model = new Linear(8, 1);
        SGD sgd = new SGD(model.parameters(), 0.05, 0.9);
        // one real step first, so that there is momentum state to keep
        F.mseLoss(model.forward(Tensor.randn(new Generator(1), 4, 8)), Tensor.zeros(4, 1)).backward();
        sgd.step();
        sgd.zeroGrad();
        Map<String, Tensor> before = model.stateDict();
        float[] w = before.get("weight").toFloatArray();
        float[] b = before.get("bias").toFloatArray();
        Map<String, Tensor> state = sgd.state().tensors();
        LrFinder.run(model, sgd, F::mseLoss, data(), 1e-4, 1, 50);
        assertArrayEquals(w, model.weight().toFloatArray());
        assertArrayEquals(b, model.bias().toFloatArray());
        Map<String, Tensor> after = sgd.state().tensors();
        assertEquals(state.keySet(), after.keySet());
        state.forEach((k, t) -> assertArrayEquals(t.toFloatArray(), after.get(k).toFloatArray(), k));
        assertEquals(0.05, sgd.lr());
    }

    @Test
    void noFallNoSuggestionAndBadArguments() {
        List<LrFinder.Point> flat = List.of(new LrFinder.Point(1e-3, 1, 1), new LrFinder.Point(1e-2, 1, 1),
                new LrFinder.Point(1e-1, 1, 1), new LrFinder.Point(1, 1.5, 1.5));
        assertTrue(Double.isNaN(LrFinder.suggest(flat)));
        Linear model = new Linear(8, 1);
        SGD sgd = new SGD(model.parameters(), 0.1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LrFinder.run(model, sgd, F::mseLoss, data(), 1, 0.1, 100));
        assertTrue(e.getMessage().contains("0 < start < end"), e.getMessage());
    }

    @Test
    void aFallBackFromTheBlowUpIsNotSuggested() {
        // the loss falls gently to its lowest at lr 1e-2, blows up, then falls steeply from the blow-up
        List<LrFinder.Point> pts = new java.util.ArrayList<>();
        for (int i = 0; i < 100; i++) {
            double lr = 1e-7 * Math.pow(1e8, i / 99.0);
            double loss = i <= 62 ? 2.3 - 0.5 * i / 62.0 : i <= 75 ? 1.8 + 0.3 * (i - 62) : 5.7 - 0.1 * (i - 75);
            pts.add(new LrFinder.Point(lr, loss, loss));
        }
        double s = LrFinder.suggest(pts);
        assertTrue(s < pts.get(62).lr(), "suggested " + s + ", after the lowest loss at " + pts.get(62).lr());
    }
}
