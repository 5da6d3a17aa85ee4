package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.nn.Activation;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.tensor.Generator;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FineTuningTest {

    @Test
    void loadsTheBodyAndKeepsANewHeadForOtherClasses(@TempDir Path dir) throws Exception {
        Generator.defaultGenerator().manualSeed(1);
        Module pretrained = new Sequential(new Linear(4, 8), new Activation.ReLU(), new Linear(8, 3));
        Path file = dir.resolve("model.safetensors");
        pretrained.save(file);
        Module fresh = new Sequential(new Linear(4, 8), new Activation.ReLU(), new Linear(8, 5));
        float[] headBefore = fresh.stateDict().get("2.weight").toFloatArray();
        FineTuning.Result r = FineTuning.loadMatching(fresh, file);
        assertEquals(List.of("0.weight", "0.bias"), r.loaded());
        assertEquals(List.of("2.weight [5, 8] (file: [3, 8])", "2.bias [5] (file: [3])"), r.reinitialised());
        assertEquals(List.of(), r.missing());
        assertEquals(List.of(), r.unused());
        assertArrayEquals(pretrained.stateDict().get("0.weight").toFloatArray(),
                fresh.stateDict().get("0.weight").toFloatArray());
        assertArrayEquals(headBefore, fresh.stateDict().get("2.weight").toFloatArray());
        assertNotEquals(pretrained.stateDict().get("2.bias").numel(), fresh.stateDict().get("2.bias").numel());
    }

    @Test
    void weightsOfAnotherArchitectureAreRefused(@TempDir Path dir) throws Exception {
        Module a = new Sequential(new Linear(4, 8));
        Path file = dir.resolve("a.safetensors");
        a.save(file);
        Module b = new Sequential(new Linear(6, 2), new Linear(2, 2));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FineTuning.loadMatching(b, file));
        assertTrue(e.getMessage().contains("another architecture") && e.getMessage().contains("a.safetensors"),
                e.getMessage());
    }
}
