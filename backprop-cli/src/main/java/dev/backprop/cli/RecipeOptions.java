package dev.backprop.cli;

import dev.backprop.tensor.Generator;
import java.nio.file.Path;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The recipe, data and run options that {@code train} and {@code lr-find} share (a picocli mixin). */
final class RecipeOptions {

    @Parameters(index = "0", arity = "0..1", paramLabel = "RECIPE", defaultValue = "cnn",
            description = "mlp | cnn | cnn-bn | tabular | intent | char-gpt | char-lstm (default: ${DEFAULT-VALUE})")
    String recipeName;

    @Option(names = "--data", paramLabel = "DATA", defaultValue = "synthetic",
            description = "synthetic (generated), fashion-mnist (the Debian package dataset-fashion-mnist), "
                    + "a folder of IDX files, or a CSV file for tabular (default: ${DEFAULT-VALUE}); for char-gpt "
                    + "and char-lstm a UTF-8 text file (default: ../shared/data/tinyshakespeare.txt next to the "
                    + "project)")
    String data;

    @Option(names = "--target", paramLabel = "COLUMN", description = "tabular: the label column")
    String target;

    @Option(names = "--batch-size", paramLabel = "N", description = "batch size (default: the recipe's)")
    Integer batchSize;

    @Option(names = "--seed", paramLabel = "S", defaultValue = "42", description = "random seed (default: ${DEFAULT-VALUE})")
    long seed;

    @Option(names = "--threads", paramLabel = "T", description = "compute threads (default: all cores)")
    Integer threads;

    Recipes.Recipe recipe() {
        return Recipes.get(recipeName);
    }

    /** --batch-size, else the recipe's. */
    int batchSize(Recipes.Recipe recipe) {
        return batchSize != null ? batchSize : recipe.defaultBatchSize();
    }

    /** Applies --threads and --seed (the default generator, which initialises the model), then loads the data. */
    RunData load(Recipes.Recipe recipe, boolean regression, Path testFile) {
        Threads.apply(threads);
        Generator.defaultGenerator().manualSeed(seed);
        return RunData.load(data, recipe.images(), target, regression, testFile, seed);
    }
}
