package dev.backprop.train;

import dev.backprop.io.SafeTensors;
import dev.backprop.nn.Module;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A training checkpoint in one safetensors file, written atomically: the model's state dict
 * ({@code model.*}), the optimizer's buffers ({@code optimizer.*}) and, as exact strings in the
 * metadata, the optimizer's options and step counts, the schedule's state and the trainer's own
 * state (step, epoch, data-loader position, random-generator states). Loading restores all of
 * it so that a resumed run continues bit for bit.
 */
public final class Checkpoint {
    static final String FORMAT = "backprop-checkpoint-1";

    private Checkpoint() {}

    /** Writes a checkpoint; {@code scheduler} may be null. */
    public static void save(Path file, Module model, Optimizer optimizer, LRScheduler scheduler,
            Map<String, String> trainerState) throws IOException {
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("format", FORMAT);
        model.stateDict().forEach((k, v) -> tensors.put("model." + k, v));
        Optimizer.State os = optimizer.state();
        os.tensors().forEach((k, v) -> tensors.put("optimizer." + k, v));
        os.values().forEach((k, v) -> meta.put("optimizer." + k, v));
        if (scheduler != null) {
            scheduler.state().forEach((k, v) -> meta.put("scheduler." + k, v));
        }
        trainerState.forEach((k, v) -> meta.put("trainer." + k, v));
        SafeTensors.writeWithChecksum(file, tensors, meta);
    }

    /**
     * Restores the model, optimizer and schedule from {@code file} and returns the trainer's own
     * state. A file that is not a checkpoint, is corrupt (its checksum does not match), or does not
     * fit the model fails with an {@link IllegalArgumentException} (a
     * {@link dev.backprop.io.SafeTensorsException} for a malformed file) whose message names the file.
     */
    public static Map<String, String> load(Path file, Module model, Optimizer optimizer, LRScheduler scheduler)
            throws IOException {
        return load(file, model, optimizer, scheduler, state -> { });
    }

    /**
     * As {@link #load(Path, Module, Optimizer, LRScheduler)}, with {@code checkTrainerState} run on
     * the trainer's state before anything is restored: it throws an {@link IllegalArgumentException}
     * (with the key and the value) when the state is unusable, and the model is then left unchanged.
     */
    public static Map<String, String> load(Path file, Module model, Optimizer optimizer, LRScheduler scheduler,
            java.util.function.Consumer<Map<String, String>> checkTrainerState) throws IOException {
        SafeTensors.Contents contents = SafeTensors.read(file);
        Map<String, String> meta = contents.metadata();
        if (!FORMAT.equals(meta.get("format"))) {
            throw new IllegalArgumentException(file + " is not a backprop checkpoint (format '" + meta.get("format")
                    + "', expected '" + FORMAT + "'); to load weights only use Module.load");
        }
        Map<String, Tensor> modelState = new LinkedHashMap<>();
        Map<String, Tensor> optimTensors = new LinkedHashMap<>();
        contents.tensors().forEach((k, v) -> {
            if (k.startsWith("model.")) {
                modelState.put(k.substring(6), v);
            } else if (k.startsWith("optimizer.")) {
                optimTensors.put(k.substring(10), v);
            } else {
                throw new IllegalArgumentException(file + ": unexpected tensor '" + k + "' in a checkpoint");
            }
        });
        Map<String, String> optimValues = new LinkedHashMap<>();
        Map<String, String> schedulerState = new LinkedHashMap<>();
        Map<String, String> trainerState = new LinkedHashMap<>();
        meta.forEach((k, v) -> {
            if (k.startsWith("optimizer.")) {
                optimValues.put(k.substring(10), v);
            } else if (k.startsWith("scheduler.")) {
                schedulerState.put(k.substring(10), v);
            } else if (k.startsWith("trainer.")) {
                trainerState.put(k.substring(8), v);
            }
        });
        try {
            checkTrainerState.accept(trainerState);
            // the optimizer and the schedule check their whole state before changing anything, and so
            // does the model: a checkpoint that does not fit fails before the weights change
            optimizer.loadState(new Optimizer.State(optimTensors, optimValues));
            if (scheduler != null) {
                scheduler.loadState(schedulerState);
            }
            model.loadStateDict(modelState);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
        }
        return trainerState;
    }
}
