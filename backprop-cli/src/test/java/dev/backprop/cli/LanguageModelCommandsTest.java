package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import dev.backprop.tensor.Generator;
import dev.backprop.train.RunFolder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code train char-gpt|char-lstm} and {@code generate} on a small generated text, a few iterations each. */
class LanguageModelCommandsTest {
    @TempDir
    static Path dir;

    static Path text;
    static Path runs;
    static Path gptRun;

    /** About 20,000 characters of a play-like text with a small vocabulary, the same every time. */
    static String playText() {
        String[] names = {"ROMEO", "JULIET", "NURSE"};
        String[] words = {"the", "night", "is", "young", "and", "love", "will", "come", "to", "thee", "my", "lord"};
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

    private static Path onlyRun(Path root, String suffix) throws Exception {
        try (Stream<Path> s = Files.list(root)) {
            List<Path> all = s.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }

    @BeforeAll
    static void trainCharGpt() throws Exception {
        text = dir.resolve("play.txt");
        Files.writeString(text, playText());
        runs = dir.resolve("runs");
        CliRun r = CliRun.of("train", "char-gpt", "--data", text.toString(), "--iters", "12", "--seed", "3",
                "--threads", "1", "--out", runs.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        assertTrue(r.out().contains("step 12: val loss ") && r.out().contains("val loss ")
                && r.out().contains("12 iterations"), r.out());
        gptRun = onlyRun(runs, "char-gpt");
    }

    @SuppressWarnings("unchecked")
    @Test
    void charGptWritesACompleteRunFolder() throws Exception {
        for (String f : List.of("manifest.json", "metrics.jsonl", "model.safetensors", "tokenizer.json", "report.html",
                "checkpoint-last.safetensors")) {
            assertTrue(Files.exists(gptRun.resolve(f)), f + " missing");
        }
        Map<String, Object> m = Json.parseObject(Files.readString(gptRun.resolve("manifest.json")));
        assertEquals("char-gpt", m.get("recipe"));
        Map<String, Object> hyper = (Map<String, Object>) m.get("hyperparameters");
        assertEquals(12L, hyper.get("iters"));
        assertEquals(12L, hyper.get("batch_size"));
        assertEquals(3L, hyper.get("seed"));
        assertEquals(1003L, hyper.get("eval_seed"));
        assertEquals(1L, hyper.get("threads"));
        Map<String, Object> data = (Map<String, Object>) ((Map<String, Object>) m.get("data")).get("text");
        assertEquals(RunFolder.sha256(text), data.get("sha256"));
        Map<String, Object> metrics = (Map<String, Object>) m.get("metrics");
        for (String k : List.of("val_loss", "train_loss", "iters", "train_time_s", "wall_time_s")) {
            assertTrue(metrics.get(k) instanceof Number, k + " in " + metrics);
        }
        assertEquals(12L, metrics.get("iters"));
        Map<String, Object> config = (Map<String, Object>) ((Map<String, Object>) m.get("model")).get("config");
        assertEquals("gpt", config.get("type"));
        assertEquals(64L, config.get("context_length"));
        String tokenizer = Files.readString(gptRun.resolve("tokenizer.json")).strip();
        assertTrue(tokenizer.startsWith("{\"type\":\"char\",\"chars\":\"\\n .:"), tokenizer);
        List<String> validations = Files.readAllLines(gptRun.resolve("metrics.jsonl")).stream()
                .filter(l -> l.contains("\"type\":\"validation\"")).toList();
        assertEquals(1, validations.size(), "after the last iteration (12 < 500)");
        assertTrue(Files.readString(gptRun.resolve("report.html")).contains("val_loss"));
    }

    @Test
    void generateIsReproducibleAndUsesTheCache() {
        String id = gptRun.getFileName().toString();
        CliRun a = CliRun.of("generate", id, "--runs", runs.toString(), "--prompt", "ROMEO:", "--tokens", "40",
                "--seed", "5");
        assertEquals(0, a.exit(), a.err());
        assertTrue(a.out().startsWith("ROMEO:"), a.out());
        String out = a.out().replace(System.lineSeparator(), "\n");
        assertEquals(6 + 40 + 1, out.codePointCount(0, out.length()), "the prompt, 40 characters, a newline: " + out);
        assertTrue(a.err().contains("40 characters in") && a.err().contains("key/value cache"), a.err());
        CliRun b = CliRun.of("generate", gptRun.toString(), "--prompt", "ROMEO:", "--tokens", "40", "--seed", "5");
        assertEquals(a.out(), b.out(), "same seed, same text (by run folder or by id)");
        CliRun c = CliRun.of("generate", gptRun.toString(), "--prompt", "ROMEO:", "--tokens", "40", "--seed", "6");
        assertNotEquals(a.out(), c.out(), "another seed");
        CliRun greedy1 = CliRun.of("generate", gptRun.toString(), "--prompt", "ROMEO:", "--tokens", "40",
                "--temperature", "0", "--seed", "1");
        CliRun greedy2 = CliRun.of("generate", gptRun.toString(), "--prompt", "ROMEO:", "--tokens", "40",
                "--temperature", "0", "--seed", "2", "--no-cache");
        assertEquals(greedy1.out(), greedy2.out(), "greedy: no randomness; with or without the cache");
        assertTrue(greedy2.err().contains("no cache"), greedy2.err());
        CliRun topK = CliRun.of("generate", gptRun.toString(), "--tokens", "30", "--top-k", "3");
        assertEquals(0, topK.exit(), topK.err());
    }

    @Test
    void badPromptsAreClearErrorsOrWarnings() {
        CliRun unknown = CliRun.of("generate", gptRun.toString(), "--prompt", "ROMEO é ü:", "--tokens", "5");
        assertEquals(2, unknown.exit());
        assertTrue(unknown.err().contains("--prompt has 2 characters the model never saw in training: 'é' (U+00E9), "
                + "'ü' (U+00FC). Remove or replace them") && unknown.err().contains("tokenizer.json"), unknown.err());
        CliRun empty = CliRun.of("generate", gptRun.toString(), "--prompt", "", "--tokens", "5");
        assertEquals(2, empty.exit());
        assertTrue(empty.err().contains("--prompt is empty"), empty.err());
        String longPrompt = "ROMEO:\nmy lord the night is young and love will come to thee and my lord is young.\n";
        CliRun longer = CliRun.of("generate", gptRun.toString(), "--prompt", longPrompt, "--tokens", "5");
        assertEquals(0, longer.exit(), longer.err());
        assertTrue(longer.err().contains("warning: the prompt has " + longPrompt.length() + " characters, more than "
                + "the model's context of 64: it is conditioned on the last 64 only"), longer.err());
        CliRun badT = CliRun.of("generate", gptRun.toString(), "--temperature", "-1");
        assertEquals(2, badT.exit());
        assertTrue(badT.err().contains("temperature must be a finite number >= 0"), badT.err());
    }

    @Test
    void charLstmTrainsWithTruncatedBpttAndGenerates() throws Exception {
        Path lstmRuns = dir.resolve("lstm-runs");
        CliRun r = CliRun.of("train", "char-lstm", "--data", text.toString(), "--iters", "6", "--threads", "1",
                "--out", lstmRuns.toString());
        assertEquals(0, r.exit(), r.out() + r.err());
        Path run = onlyRun(lstmRuns, "char-lstm");
        String manifest = Files.readString(run.resolve("manifest.json"));
        assertTrue(manifest.contains("\"streams\":32") && manifest.contains("\"type\":\"lstm\""), manifest);
        CliRun g = CliRun.of("generate", run.toString(), "--prompt", "JULIET:", "--tokens", "100", "--seed", "2");
        assertEquals(0, g.exit(), g.err());
        assertTrue(g.out().startsWith("JULIET:") && g.err().contains("recurrent state"), g.out() + g.err());
        CliRun noCache = CliRun.of("generate", run.toString(), "--no-cache");
        assertEquals(2, noCache.exit());
        assertTrue(noCache.err().contains("--no-cache is for char-gpt runs"), noCache.err());
    }

    @Test
    void wrongRunsAndOptionsAreClearErrors() throws Exception {
        Path cnn = dir.resolve("runs-other").resolve("20250101-000000-cnn");
        Files.createDirectories(cnn);
        Files.writeString(cnn.resolve("manifest.json"), "{\"id\":\"20250101-000000-cnn\",\"recipe\":\"cnn\"}");
        CliRun notLm = CliRun.of("generate", "20250101-000000-cnn", "--runs", cnn.getParent().toString());
        assertEquals(2, notLm.exit());
        assertTrue(notLm.err().contains("was trained with the recipe 'cnn', not a language model"), notLm.err());
        CliRun missing = CliRun.of("generate", "no-such-run", "--runs", runs.toString());
        assertEquals(2, missing.exit());
        assertTrue(missing.err().contains("no run 'no-such-run'"), missing.err());
        CliRun epochs = CliRun.of("train", "char-gpt", "--data", text.toString(), "--epochs", "2", "--out",
                dir.resolve("x").toString());
        assertEquals(2, epochs.exit());
        assertTrue(epochs.err().contains("char-gpt does not take --epochs: it trains for --iters"), epochs.err());
        CliRun iters = CliRun.of("train", "cnn", "--iters", "5", "--out", dir.resolve("x").toString());
        assertEquals(2, iters.exit());
        assertTrue(iters.err().contains("--iters is for the language-model recipes"), iters.err());
        CliRun eval = CliRun.of("eval", gptRun.toString());
        assertEquals(2, eval.exit());
        assertTrue(eval.err().contains("'char-gpt' is a language-model recipe") && eval.err().contains("generate"),
                eval.err());
        CliRun notText = CliRun.of("train", "char-lstm", "--data", dir.resolve("none.txt").toString());
        assertEquals(2, notText.exit());
        assertTrue(notText.err().contains("is not a file"), notText.err());
    }

    @Test
    void withoutDataTheDefaultTextIsLookedForNextToTheProject() {
        String old = System.getProperty(LanguageModelTraining.ROOT_PROPERTY);
        System.setProperty(LanguageModelTraining.ROOT_PROPERTY, dir.resolve("project").toString());
        try {
            CliRun r = CliRun.of("train", "char-gpt", "--out", dir.resolve("y").toString());
            assertEquals(2, r.exit());
            Path expected = dir.resolve("shared/data/tinyshakespeare.txt").toAbsolutePath().normalize();
            assertTrue(r.err().contains("no --data given and the default text ../shared/data/tinyshakespeare.txt")
                    && r.err().contains("looked for " + expected) && r.err().contains("pass --data FILE"), r.err());
        } finally {
            if (old == null) {
                System.clearProperty(LanguageModelTraining.ROOT_PROPERTY);
            } else {
                System.setProperty(LanguageModelTraining.ROOT_PROPERTY, old);
            }
        }
    }

    @Test
    void helpNamesTheRecipesAndTheCommand() {
        assertTrue(CliRun.of("train", "--help").out().contains("char-gpt"));
        assertTrue(CliRun.of("--help").out().contains("generate"));
        CliRun help = CliRun.of("generate", "--help");
        assertTrue(help.out().contains("--temperature") && help.out().contains("--top-k"), help.out());
    }
}
