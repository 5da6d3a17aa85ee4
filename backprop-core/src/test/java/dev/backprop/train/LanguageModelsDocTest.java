package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.TextCorpus;
import dev.backprop.models.Sampler;
import dev.backprop.tensor.Generator;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Java examples of docs/language-models.md, run as written (with fewer iterations, on a small text). */
class LanguageModelsDocTest {
    @TempDir
    Path dir;

    @Test
    void docsExampleTrainsSavesLoadsAndGenerates() throws Exception {
        Path textFile = dir.resolve("play.txt");
        Files.writeString(textFile, LanguageModelRecipeTest.playText());
        Path runsFolder = dir.resolve("runs");

        TextCorpus corpus = TextCorpus.read(textFile);                      // 90% training, 10% validation
        var options = LanguageModelRecipe.Options.charGpt();                // Q2: 2000 iterations, batch 12, context 64
        options = options.withIters(12).withEvalEvery(6).withEvalBatches(2); // (a quick test)
        var recipe = LanguageModelRecipe.charGpt(corpus, options);          // or charLstm(corpus, Options.charLstm())
        LanguageModelRecipe.Result result = recipe.train(new ProgressBar());
        System.out.printf("val loss %.4f after %d iterations%n", result.valLoss(), result.steps());
        Sampler sampler = new Sampler(0.8, 40, new Generator(7));           // temperature 0.8, top-40, seed 7
        System.out.println(sampler.generate(recipe.model(), corpus.vocab(), "ROMEO:", 200));

        RunFolder run = RunFolder.create(runsFolder, recipe.name());
        recipe.describeRun(run);                                            // settings, model configuration, tokenizer.json
        run.saveModel(recipe.model());
        LanguageModelRecipe.Loaded loaded = LanguageModelRecipe.loadRun(run.dir());
        System.out.println(sampler.generate(loaded.model(), loaded.vocab(), "JULIET:", 200));

        assertEquals(12, result.steps());
        assertEquals("char-gpt", loaded.recipe());
        String a = new Sampler(0.8, 40, new Generator(3)).generate(recipe.model(), corpus.vocab(), "ROMEO:", 50);
        String b = new Sampler(0.8, 40, new Generator(3)).generate(loaded.model(), loaded.vocab(), "ROMEO:", 50);
        assertEquals(a, b, "the saved and loaded model generates the same text");
    }

    @Test
    void docsShowThisExample() throws Exception {
        String doc = Files.readString(Path.of("..", "docs", "language-models.md"));
        String source = Files.readString(Path.of("src", "test", "java", "dev", "backprop", "train",
                "LanguageModelsDocTest.java"));
        int from = doc.indexOf("## From Java");
        int blocks = 0;
        for (int start = doc.indexOf("```java", from); start >= 0; start = doc.indexOf("```java", start + 7)) {
            int end = doc.indexOf("```", start + 7);
            for (String line : doc.substring(start + 7, end).split("\n")) {
                if (!line.isBlank()) {
                    assertTrue(source.contains(line.strip()), "docs line not in the test: " + line);
                }
            }
            blocks++;
        }
        assertEquals(2, blocks, "the two Java examples");
    }
}
