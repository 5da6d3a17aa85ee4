package dev.backprop.train;

import dev.backprop.data.DataLoader;
import dev.backprop.data.TensorDataset;
import dev.backprop.nn.Activation;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.F;
import dev.backprop.nn.Linear;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.tensor.Generator;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The training process {@link KillResumeTest} kills: a small deterministic run (dropout, Adam,
 * cosine schedule, shuffled batches) that checkpoints every few steps into the folder given as the
 * first argument, resumes from {@code checkpoint-last.safetensors} when there is one, and saves
 * {@code model.safetensors} at the end.
 */
public final class KillResumeChild {
    static final int EPOCHS = 6;
    static final int CHECKPOINT_EVERY = 3;
    /** Optimizer steps of the whole run: 2000 examples in batches of 16, {@link #EPOCHS} times. */
    static final int STEPS = EPOCHS * 125;

    private KillResumeChild() {}

    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        Generator.defaultGenerator().manualSeed(5);
        Module model = new Sequential(new Linear(4, 64), new Activation.ReLU(), new Dropout(0.1f), new Linear(64, 3));
        TensorDataset data = TestData.blobs(2000, 1);
        DataLoader loader = new DataLoader(data, 16, true, 3);
        Optimizer opt = new Adam(model.parameters(), 1e-2);
        LRScheduler schedule = LRScheduler.cosine(opt, EPOCHS * loader.numBatches(), 1e-4);
        Trainer trainer = Trainer.builder(model, opt, F::crossEntropy).epochs(EPOCHS).scheduler(schedule)
                .checkpoints(dir, CHECKPOINT_EVERY).diagnostics(false).listener(new TrainingListener() {
                    @Override
                    public void onStep(Trainer t, StepReport step) {
                        System.out.println("step " + step.step()); // lets the parent kill it at a step of its choice
                        System.out.flush();
                    }
                }).build();
        Path checkpoint = dir.resolve("checkpoint-last.safetensors");
        if (Files.exists(checkpoint)) {
            trainer.resume(checkpoint);
        }
        System.out.println("training from step " + trainer.step());
        System.out.flush();
        trainer.fit(loader, null);
        model.save(dir.resolve("model.safetensors"));
        System.out.println("done at step " + trainer.step());
    }
}
