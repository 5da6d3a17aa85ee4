package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.io.SafeTensorsException;
import dev.backprop.nn.F;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.optim.Adam;
import dev.backprop.train.Trainer;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Resuming from a checkpoint file ({@code train --resume}) and loading model weights
 * ({@code eval}, {@code predict}, {@code --init-from}) on arbitrary bytes: only a
 * {@link SafeTensorsException}, or an {@link IllegalArgumentException} whose message names the file.
 */
class CheckpointFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void resume(byte[] data) {
        Path file = Fuzz.file("checkpoint-last.safetensors", data);
        Module model = new Linear(4, 3);
        Trainer trainer = Trainer.builder(model, new Adam(model.parameters(), 1e-3), F::crossEntropy)
                .epochs(1).diagnostics(false).build();
        Fuzz.expect(() -> {
            try {
                trainer.resume(file);
            } catch (IllegalArgumentException e) {
                if (e.getMessage() == null || !e.getMessage().contains(file.toString())) {
                    throw new AssertionError("the message does not name the file: " + e.getMessage(), e);
                }
                throw e;
            }
        }, SafeTensorsException.class, IllegalArgumentException.class, IOException.class);
        Fuzz.expect(() -> {
            try {
                model.load(file);
            } catch (IllegalArgumentException e) {
                if (e.getMessage() == null || !e.getMessage().contains(file.toString())) {
                    throw new AssertionError("the message does not name the file: " + e.getMessage(), e);
                }
                throw e;
            }
        }, SafeTensorsException.class, IllegalArgumentException.class, IOException.class);
    }
}
