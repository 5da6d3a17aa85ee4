package dev.backprop.diagnostics;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.DataLoader;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.F;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.SGD;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The first non-finite loss of a run is traced in anomaly mode: the trainer names the op, the
 * layer path and the line of user code, quotes it in the doctor's non-finite diagnosis, and the
 * run goes on exactly as it would have without the trace.
 */
class NonFiniteTraceTest {

    /** A user layer with a bug: log of values that can be negative. */
    static final class LogFeatures extends Module {
        @Override
        protected Tensor compute(Tensor x) {
            return x.log(); // NaN for negative inputs
        }
    }

    private static Module model() {
        Generator.defaultGenerator().manualSeed(11);
        return new Sequential(new Linear(4, 8), new LogFeatures(), new Activation.ReLU(), new Linear(8, 3));
    }

    @Test
    void namesTheOpTheLayerAndTheSourceLine() {
        Module model = model();
        var t = dev.backprop.train.Trainer.builder(model, new SGD(model.parameters(), 0.01), F::crossEntropy)
                .numClasses(3).epochs(1).diagnostics(Monitor.Options.every(1)).build();
        t.fit(new DataLoader(dev.backprop.train.TestData.blobs(64, 1), 32, false, 0), null);
        String trace = t.nonFiniteTrace();
        assertTrue(trace != null && trace.contains("'log'") && trace.contains("NaN"), trace);
        assertTrue(trace.contains("NonFiniteTraceTest.java"), "the user's source line: " + trace);
        assertTrue(trace.contains("LogFeatures"), "the layer: " + trace);
        List<Diagnosis> nonFinite = t.diagnoses().stream().filter(d -> d.rule().equals(Doctor.NON_FINITE)).toList();
        assertEquals(1, nonFinite.size(), t.diagnoses().toString());
        assertTrue(nonFinite.get(0).message().contains("First non-finite value: ") && nonFinite.get(0).message()
                .contains("'log'"), nonFinite.get(0).message());
    }

    /**
     * The trace runs the batch again, dropout included: it must hand back the random generator as
     * it found it, or every later draw (and so the run) would differ from an untraced one.
     */
    @Test
    void theTracePutsTheRandomGeneratorBack() {
        long[][] states = new long[2][];
        for (int run = 0; run < 2; run++) {
            Generator.defaultGenerator().manualSeed(11);
            Module model = new Sequential(new Linear(4, 8), new Dropout(0.5f), new LogFeatures(),
                    new Activation.ReLU(), new Linear(8, 3));
            var t = dev.backprop.train.Trainer.builder(model, new SGD(model.parameters(), 0.01), F::crossEntropy)
                    .numClasses(3).epochs(1).diagnostics(false).traceNonFinite(run == 0).build();
            t.fit(new DataLoader(dev.backprop.train.TestData.blobs(64, 1), 32, false, 0), null);
            states[run] = Generator.defaultGenerator().state();
            assertEquals(run == 0, t.nonFiniteTrace() != null, "traced only when asked (doctor off: the trainer does it)");
        }
        assertArrayEquals(states[0], states[1]);
    }

    @Test
    void healthyRunsHaveNoTrace() {
        Generator.defaultGenerator().manualSeed(12);
        Module model = new Sequential(new Linear(4, 8), new Activation.ReLU(), new Linear(8, 3));
        var t = dev.backprop.train.Trainer.builder(model, new SGD(model.parameters(), 0.05), F::crossEntropy)
                .numClasses(3).epochs(1).build();
        t.fit(new DataLoader(dev.backprop.train.TestData.blobs(64, 1), 32, false, 0), null);
        assertNull(t.nonFiniteTrace());
    }
}
