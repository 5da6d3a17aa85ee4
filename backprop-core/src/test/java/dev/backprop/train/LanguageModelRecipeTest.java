package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.data.TextCorpus;
import dev.backprop.models.CharLSTM;
import dev.backprop.models.GPT;
import dev.backprop.nn.Module;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The char-gpt and char-lstm recipes on a small generated text: plumbing, not quality. */
class LanguageModelRecipeTest {
    @TempDir
    Path dir;

    /** About 20,000 characters of a play-like text with a small vocabulary, the same every time. */
    static String playText() {
        String[] names = {"ROMEO", "JULIET", "NURSE", "FRIAR"};
        String[] words = {"the", "night", "is", "young", "and", "love", "will", "come", "to", "thee", "my", "lord",
            "fair", "day", "go", "hence"};
        Generator g = new Generator(11);
        StringBuilder sb = new StringBuilder();
        while (sb.length() < 20_000) {
            sb.append(names[g.nextInt(names.length)]).append(":\n");
            int n = 4 + g.nextInt(8);
            for (int i = 0; i < n; i++) {
                sb.append(i == 0 ? "" : " ").append(words[g.nextInt(words.length)]);
            }
            sb.append(".\n\n");
        }
        return sb.toString();
    }

    private static final TextCorpus CORPUS = TextCorpus.of(playText(), 0.9);

    @Test
    void charGptTrainsThroughTheTrainerByTheQ2Protocol() {
        var options = LanguageModelRecipe.Options.charGpt().withIters(30).withEvalEvery(15).withEvalBatches(4)
                .withSeed(3);
        var recipe = LanguageModelRecipe.charGpt(CORPUS, options);
        assertEquals(new GPT.Config(CORPUS.vocab().size(), 64, 4, 4, 128, 512), recipe.model().config());
        List<StepReport> steps = new ArrayList<>();
        List<Long> monitored = new ArrayList<>();
        LanguageModelRecipe.Result r = recipe.train(new TrainingListener() {
            @Override
            public void onStep(Trainer t, StepReport s) {
                steps.add(s);
            }

            @Override
            public void onDiagnostics(Trainer t, dev.backprop.diagnostics.StepStats s) {
                monitored.add(s.step());
                assertTrue(s.layers().containsKey("blocks.0.qkv"), s.layers().keySet().toString());
            }
        });
        assertEquals(List.of(1L, 10L, 20L, 30L), monitored, "the gradient-flow monitor watches the run");
        assertEquals(30, r.steps());
        assertEquals(30, steps.size());
        assertEquals(1e-3 / 101, steps.get(0).lr(), 1e-12, "the warm-up's first rate");
        assertEquals(2e-3 / 101, steps.get(1).lr(), 1e-12);
        assertEquals(12, steps.get(0).examples(), "batch 12");
        assertEquals(2, r.validations().size());
        assertEquals(15, r.validations().get(0)[0]);
        assertEquals(30, r.validations().get(1)[0]);
        assertEquals(r.validations().get(1)[1], r.valLoss(), 0);
        double uniform = Math.log(CORPUS.vocab().size());
        assertTrue(r.valLoss() < uniform - 0.5, "val loss " + r.valLoss() + " vs uniform " + uniform);
        assertTrue(Double.isFinite(r.trainLoss()) && r.trainLoss() < uniform, "train loss " + r.trainLoss());
        assertTrue(r.trainSeconds() > 0 && r.wallSeconds() >= r.trainSeconds());
        assertEquals(r.valLoss(), recipe.validationLoss(), 1e-9, "the same fixed validation batches");
        assertEquals(recipe.validationLoss(), recipe.validationLoss(), 0);
        Map<String, Object> h = recipe.hyperparameters();
        assertEquals(12, h.get("batch_size"));
        assertEquals(1003L, h.get("eval_seed"));
        assertEquals("AdamW", h.get("optimizer"));
    }

    @Test
    void aResumedRunEndsWithTheSameWeights() throws Exception {
        var options = LanguageModelRecipe.Options.charGpt().withIters(8).withEvalEvery(4).withEvalBatches(1);
        var whole = LanguageModelRecipe.charGpt(CORPUS, options);
        whole.train();

        var first = LanguageModelRecipe.charGpt(CORPUS, options);
        Path ckpt = dir.resolve("a");
        Trainer stopped = first.trainerBuilder().checkpoints(ckpt, 4).listener(new TrainingListener() {
            @Override
            public void onStep(Trainer t, StepReport s) {
                if (s.step() == 4) {
                    t.requestStop("test");
                }
            }
        }).build();
        assertEquals(4, first.fit(stopped).steps());

        var second = LanguageModelRecipe.charGpt(CORPUS, options);
        Trainer resumed = second.trainerBuilder().build();
        resumed.resume(ckpt.resolve("checkpoint-last.safetensors"));
        assertEquals(8, second.fit(resumed).steps());
        Map<String, Tensor> expected = whole.model().stateDict();
        Map<String, Tensor> actual = second.model().stateDict();
        for (String k : expected.keySet()) {
            assertArrayEquals(expected.get(k).toFloatArray(), actual.get(k).toFloatArray(), k);
        }
    }

    @Test
    void charLstmCarriesTheStateWithinAnEpochAndResetsItBetween() {
        var options = LanguageModelRecipe.Options.charLstm().withIters(12).withEvalEvery(6).withEvalBatches(2);
        var recipe = LanguageModelRecipe.charLstm(CORPUS, options);
        CharLSTM model = recipe.model();
        assertTrue(model.carriesState());
        int perEpoch = recipe.trainLoader().numBatches();
        assertEquals(CORPUS.train().numel() > 0 ? (CORPUS.trainLength() - 1) / 32 / 64 : -1, perEpoch);
        List<String> seen = new ArrayList<>();
        LanguageModelRecipe.Result r = recipe.train(new TrainingListener() {
            @Override
            public void onStep(Trainer t, StepReport s) {
                assertNotNull(model.carriedState(), "carried after a step");
                assertArrayEquals(new int[] {2, 32, 256}, model.carriedState().h().shape());
                assertTrue(s.examples() == 32);
                seen.add("step " + s.step());
            }

            @Override
            public void onEpochEnd(Trainer t, EpochReport e) {
                assertNull(model.carriedState(), "reset for the next epoch (the recipe's listener runs first)");
                seen.add("epoch " + e.epoch());
            }
        });
        assertEquals(12, r.steps());
        assertTrue(perEpoch < 12, "the run crosses an epoch border");
        assertTrue(seen.contains("epoch 0"), seen.toString());
        assertEquals("step " + (perEpoch + 1), seen.get(perEpoch + 1), "the second epoch follows the first's end");
        assertEquals(2, r.validations().size());
        assertTrue(r.valLoss() < Math.log(CORPUS.vocab().size()), "val loss " + r.valLoss());
        assertEquals(List.of(32, 64), List.of(options.batchSize(), options.contextLength()));
        assertEquals("constant", recipe.hyperparameters().get("schedule"));
        assertNull(recipe.scheduler());
    }

    @Test
    void modelConfigurationsRebuildTheArchitecture() {
        for (LanguageModelRecipe<?> r : List.of(
                LanguageModelRecipe.charGpt(CORPUS, LanguageModelRecipe.Options.charGpt().withIters(1)),
                LanguageModelRecipe.charLstm(CORPUS, LanguageModelRecipe.Options.charLstm().withIters(1)))) {
            Module rebuilt = LanguageModelRecipe.buildModel(r.modelConfig());
            assertEquals(r.model().getClass(), rebuilt.getClass());
            assertEquals(r.model().stateDict().keySet(), rebuilt.stateDict().keySet());
            rebuilt.loadStateDict(r.model().stateDict());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LanguageModelRecipe.buildModel(Map.of("type", "rnn")));
        assertTrue(e.getMessage().contains("expected type \"gpt\" or \"lstm\""), e.getMessage());
    }

    @Test
    void badInputIsAClearError() throws Exception {
        TextCorpus tiny = TextCorpus.of("to be or not to be ".repeat(20), 0.9); // 380 characters: 38 to validate
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> LanguageModelRecipe.charGpt(tiny));
        assertTrue(e.getMessage().contains("need at least 66 characters in both the training part")
                && e.getMessage().contains("it has 342 and 38") && e.getMessage().contains("use a longer text"),
                e.getMessage());
        TextCorpus small = TextCorpus.of("to be or not to be ".repeat(100), 0.9); // 1710 training characters
        e = assertThrows(IllegalArgumentException.class, () -> LanguageModelRecipe.charLstm(small));
        assertTrue(e.getMessage().contains("char-lstm: the training part of the text (1710 characters) is too short")
                && e.getMessage().contains("need at least 2049 tokens"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LanguageModelRecipe.defaults("char-rnn"));
        assertTrue(e.getMessage().contains("expected char-gpt or char-lstm"));
        Path notLm = dir.resolve("cnn-run");
        Files.createDirectories(notLm);
        Files.writeString(notLm.resolve("manifest.json"), "{\"recipe\":\"cnn\"}");
        e = assertThrows(IllegalArgumentException.class, () -> LanguageModelRecipe.loadRun(notLm));
        assertTrue(e.getMessage().contains("trained with the recipe 'cnn', not a language model"), e.getMessage());
        Files.writeString(notLm.resolve("manifest.json"), "{\"recipe\":\"char-gpt\",\"model\":{\"config\":{"
                + "\"type\":\"gpt\"}}}");
        e = assertThrows(IllegalArgumentException.class, () -> LanguageModelRecipe.loadRun(notLm));
        assertTrue(e.getMessage().contains("has no model.safetensors"), e.getMessage());
    }

    @Test
    void onTinyShakespeareTheTransformerIsExactlyW3() {
        Path p = Path.of("../../shared/data/tinyshakespeare.txt");
        if (!Files.exists(p)) {
            p = Path.of("../shared/data/tinyshakespeare.txt");
        }
        assumeTrue(Files.exists(p), "tinyshakespeare.txt not found at ../shared/data next to the repository; "
                + "skipping the check that char-gpt on it is the W3 model");
        var recipe = LanguageModelRecipe.charGpt(TextCorpus.read(p), LanguageModelRecipe.Options.charGpt());
        assertEquals(GPT.Config.w3(), recipe.model().config(), "65 characters, context 64");
        assertEquals(809_856, recipe.model().parameterCount());
    }
}
