package dev.backprop.cli;

import dev.backprop.data.BatchTransform;
import dev.backprop.data.ImageAugment;
import dev.backprop.nn.Activation;
import dev.backprop.nn.BatchNorm1d;
import dev.backprop.nn.BatchNorm2d;
import dev.backprop.nn.Conv2d;
import dev.backprop.nn.Dropout;
import dev.backprop.nn.Flatten;
import dev.backprop.nn.Linear;
import dev.backprop.nn.MaxPool2d;
import dev.backprop.nn.Module;
import dev.backprop.nn.Sequential;
import dev.backprop.optim.Adam;
import dev.backprop.optim.AdamW;
import dev.backprop.optim.LRScheduler;
import dev.backprop.optim.Optimizer;
import dev.backprop.optim.SGD;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The training recipes of the command line: a model, an optimizer, a schedule and defaults for
 * each. {@code mlp} and {@code cnn} are the W1 and W2 models of WORKLOADS.md with their
 * optimizers; {@code cnn-bn} is the better image recipe (batch norm, dropout, augmentation,
 * AdamW with one-cycle); {@code tabular} an MLP for CSV features.
 */
final class Recipes {
    private Recipes() {}

    /** What a recipe needs to know about the data. */
    record DataShape(int[] inputShape, int numClasses) {
        int features() {
            int n = 1;
            for (int d : inputShape) {
                n *= d;
            }
            return n;
        }
    }

    /** One recipe: defaults and builders. */
    interface Recipe {
        String name();

        String description();

        int defaultEpochs();

        int defaultBatchSize();

        double defaultLr();

        boolean images();

        Module model(DataShape data);

        Optimizer optimizer(Module model, double lr);

        /** A schedule stepped every optimizer step, or null. */
        default LRScheduler scheduler(Optimizer optimizer, double lr, int stepsPerEpoch, int epochs) {
            return null;
        }

        /** A transform of training batches (augmentation), or null. */
        default BatchTransform augmentation() {
            return null;
        }
    }

    static final Map<String, Recipe> ALL = new TreeMap<>();

    static {
        register(new Recipe() {
            public String name() { return "mlp"; }
            public String description() { return "W1: Linear(784,512)-ReLU-Linear(512,256)-ReLU-Linear(256,10), Adam"; }
            public int defaultEpochs() { return 10; }
            public int defaultBatchSize() { return 128; }
            public double defaultLr() { return 1e-3; }
            public boolean images() { return true; }

            public Module model(DataShape d) {
                return new Sequential(new Flatten(), new Linear(d.features(), 512), new Activation.ReLU(),
                        new Linear(512, 256), new Activation.ReLU(), new Linear(256, d.numClasses()));
            }

            public Optimizer optimizer(Module m, double lr) {
                return new Adam(m.parameters(), lr);
            }
        });
        register(new Recipe() {
            public String name() { return "cnn"; }
            public String description() {
                return "W2: Conv(1,32,3)-ReLU-Pool-Conv(32,64,3)-ReLU-Pool-Linear(3136,128)-ReLU-Linear(128,10), SGD momentum";
            }
            public int defaultEpochs() { return 5; }
            public int defaultBatchSize() { return 64; }
            public double defaultLr() { return 0.01; }
            public boolean images() { return true; }

            public Module model(DataShape d) {
                int c = d.inputShape()[0];
                int side = d.inputShape()[1] / 4;
                return new Sequential(new Conv2d(c, 32, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2),
                        new Conv2d(32, 64, 3, 1, 1), new Activation.ReLU(), new MaxPool2d(2), new Flatten(),
                        new Linear(64 * side * side, 128), new Activation.ReLU(), new Linear(128, d.numClasses()));
            }

            public Optimizer optimizer(Module m, double lr) {
                return new SGD(m.parameters(), lr, 0.9);
            }
        });
        register(new Recipe() {
            public String name() { return "cnn-bn"; }
            public String description() {
                return "better CNN: W2 with batch norm and dropout, random crop + flip, AdamW with one-cycle schedule";
            }
            public int defaultEpochs() { return 12; }
            public int defaultBatchSize() { return 128; }
            public double defaultLr() { return 3e-3; }
            public boolean images() { return true; }

            public Module model(DataShape d) {
                int c = d.inputShape()[0];
                int side = d.inputShape()[1] / 4;
                return new Sequential(
                        new Conv2d(c, 32, 3, 1, 1), new BatchNorm2d(32), new Activation.ReLU(), new MaxPool2d(2),
                        new Conv2d(32, 64, 3, 1, 1), new BatchNorm2d(64), new Activation.ReLU(), new MaxPool2d(2),
                        new Flatten(), new Dropout(0.25f),
                        new Linear(64 * side * side, 256), new BatchNorm1d(256), new Activation.ReLU(),
                        new Dropout(0.25f), new Linear(256, d.numClasses()));
            }

            public Optimizer optimizer(Module m, double lr) {
                return new AdamW(m.parameters(), lr, 0.9, 0.999, 1e-8, 5e-4);
            }

            public LRScheduler scheduler(Optimizer o, double lr, int stepsPerEpoch, int epochs) {
                return LRScheduler.oneCycle(o, lr, stepsPerEpoch * epochs);
            }

            public BatchTransform augmentation() {
                return ImageAugment.randomCropFlip(2);
            }
        });
        register(new Recipe() {
            public String name() { return "tabular"; }
            public String description() { return "MLP for CSV features: Linear-BN-ReLU x2 with dropout, AdamW, cosine"; }
            public int defaultEpochs() { return 30; }
            public int defaultBatchSize() { return 64; }
            public double defaultLr() { return 3e-3; }
            public boolean images() { return false; }

            public Module model(DataShape d) {
                int outputs = d.numClasses() > 0 ? d.numClasses() : 1;
                return new Sequential(new Linear(d.features(), 128), new BatchNorm1d(128), new Activation.ReLU(),
                        new Dropout(0.1f), new Linear(128, 64), new BatchNorm1d(64), new Activation.ReLU(),
                        new Linear(64, outputs));
            }

            public Optimizer optimizer(Module m, double lr) {
                return new AdamW(m.parameters(), lr);
            }

            public LRScheduler scheduler(Optimizer o, double lr, int stepsPerEpoch, int epochs) {
                return LRScheduler.cosine(o, Math.max(1, stepsPerEpoch * epochs), lr * 0.01);
            }
        });
    }

    private static void register(Recipe r) {
        ALL.put(r.name(), r);
    }

    static Recipe get(String name) {
        Recipe r = ALL.get(name);
        if (r == null && dev.backprop.train.LanguageModelRecipe.isRecipe(name)) {
            throw new IllegalArgumentException("'" + name + "' is a language-model recipe: `backprop train " + name
                    + "` trains it and `backprop generate RUN` samples from its runs; this command takes the image "
                    + "and tabular recipes " + names());
        }
        if (r == null) {
            throw new IllegalArgumentException("unknown recipe '" + name + "'; the recipes are " + names()
                    + " and the language models char-gpt, char-lstm");
        }
        return r;
    }

    static List<String> names() {
        return new ArrayList<>(ALL.keySet());
    }
}
