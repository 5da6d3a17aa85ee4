package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.io.Json;
import dev.backprop.io.SafeTensors;
import dev.backprop.models.Bert;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code backprop finetune}: an intent classifier from a (tiny, random) BERT in HuggingFace's
 * folder layout (model.safetensors with {@code bert.} keys, config.json, tokenizer.json), then
 * {@code eval} and {@code predict} by run id; a char-gpt run adapted to another text; bad input.
 */
class FinetuneCommandTest {
    private static final List<String> INTENTS = List.of("card_arrival", "lost_or_stolen_card", "top_up_failed");
    private static final List<List<String>> PHRASES = List.of(
            List.of("where is my new card", "my card has not arrived", "when will my card come"),
            List.of("I lost my card", "my card was stolen", "I can't find my card"),
            List.of("my top up failed", "the top-up did not work", "why was my top up declined"));

    @TempDir
    Path dir;

    private Path csv(String name, int rows, long seed) throws IOException {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder("text,label\n");
        for (int i = 0; i < rows; i++) {
            int c = i % INTENTS.size();
            sb.append('"').append(PHRASES.get(c).get(r.nextInt(3))).append(r.nextBoolean() ? "?" : "").append("\",")
                    .append(INTENTS.get(c)).append('\n');
        }
        return Files.writeString(dir.resolve(name), sb, StandardCharsets.UTF_8);
    }

    /** A HuggingFace-style BERT folder with a random tiny encoder and a vocabulary of the phrases' words. */
    private Path bertFolder() throws IOException {
        Set<String> words = new LinkedHashSet<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "?", "'", "-"));
        for (List<String> ps : PHRASES) {
            for (String p : ps) {
                for (String w : p.toLowerCase().split("[ '\\-]")) {
                    words.add(w);
                }
            }
        }
        List<String> vocab = new ArrayList<>(words);
        Path folder = Files.createDirectories(dir.resolve("tiny-bert"));
        Map<String, Object> v = new LinkedHashMap<>();
        for (int i = 0; i < vocab.size(); i++) {
            v.put(vocab.get(i), i);
        }
        Map<String, Object> tok = new LinkedHashMap<>();
        tok.put("normalizer", Map.of("type", "BertNormalizer", "lowercase", true));
        tok.put("pre_tokenizer", Map.of("type", "BertPreTokenizer"));
        tok.put("model", Map.of("type", "WordPiece", "unk_token", "[UNK]", "vocab", v));
        Files.writeString(folder.resolve("tokenizer.json"), Json.write(tok));
        Map<String, Object> config = new LinkedHashMap<>();
        config.put("vocab_size", vocab.size());
        config.put("hidden_size", 16);
        config.put("num_hidden_layers", 2);
        config.put("num_attention_heads", 2);
        config.put("intermediate_size", 32);
        config.put("max_position_embeddings", 64);
        Files.writeString(folder.resolve("config.json"), Json.write(config));
        Generator.defaultGenerator().manualSeed(5);
        Bert bert = new Bert(Bert.Config.fromMap(config));
        Map<String, Tensor> sd = new LinkedHashMap<>();
        bert.stateDict().forEach((k, t) -> sd.put("bert." + k, t));
        SafeTensors.write(folder.resolve("model.safetensors"), sd);
        return folder;
    }

    private static Path onlyRun(Path runs, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(runs)) {
            List<Path> all = s.filter(p -> p.getFileName().toString().endsWith(suffix)).toList();
            assertEquals(1, all.size(), all.toString());
            return all.get(0);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void finetuneAnEncoderThenEvalAndPredictByRunId() throws Exception {
        Path train = csv("train.csv", 90, 1);
        Path test = csv("test.csv", 30, 2);
        Path runs = dir.resolve("runs");
        CliRun f = CliRun.of("finetune", "--from", bertFolder().toString(), "--data", train.toString(), "--test",
                test.toString(), "--epochs", "6", "--lr", "1e-2", "--encoder-lr", "2e-3", "--threads", "1", "--out",
                runs.toString());
        assertEquals(0, f.exit(), f.out() + f.err());
        assertTrue(f.out().contains("test accuracy") && f.out().contains("head lr 0.01, encoder lr 0.002"), f.out());
        Path run = onlyRun(runs, "intent");
        for (String file : List.of("manifest.json", "metrics.jsonl", "model.safetensors", "tokenizer.json",
                "classifier.json", "report.html")) {
            assertTrue(Files.isRegularFile(run.resolve(file)), file);
        }
        Map<String, Object> m = Json.parseObject(Files.readString(run.resolve("manifest.json")));
        assertEquals("intent", m.get("recipe"));
        assertEquals("finetune", m.get("method"));
        double acc = ((Number) ((Map<String, Object>) m.get("metrics")).get("test_accuracy")).doubleValue();
        assertTrue(acc >= 0.8, "test accuracy " + acc); // a random tiny encoder: the head and encoder learn it

        String id = run.getFileName().toString();
        CliRun e = CliRun.of("eval", id, "--runs", runs.toString());
        assertEquals(0, e.exit(), e.out() + e.err());
        assertTrue(e.out().contains(String.format(java.util.Locale.ROOT, "test accuracy %.4f", acc)), e.out());
        CliRun p = CliRun.of("predict", id, "--runs", runs.toString(), "--text", "I lost my card", "--top", "2");
        assertEquals(0, p.exit(), p.out() + p.err());
        assertTrue(p.out().contains("lost_or_stolen_card"), p.out());

        // fine-tune the fine-tuned run again, the encoder frozen (a linear probe on its embeddings)
        CliRun again = CliRun.of("finetune", "--from", id, "--data", train.toString(), "--test", test.toString(),
                "--freeze-encoder", "--epochs", "5", "--threads", "1", "--out", runs.toString());
        assertEquals(0, again.exit(), again.out() + again.err());
        assertTrue(again.out().contains("(frozen)"), again.out());
    }

    @Test
    void finetuneACharGptRunOnAnotherText() throws Exception {
        Path first = Files.writeString(dir.resolve("first.txt"), LanguageModelCommandsTest.playText());
        Path runs = dir.resolve("runs");
        CliRun t = CliRun.of("train", "char-gpt", "--data", first.toString(), "--iters", "6", "--threads", "1",
                "--out", runs.toString());
        assertEquals(0, t.exit(), t.out() + t.err());
        Path source = onlyRun(runs, "char-gpt");
        String other = LanguageModelCommandsTest.playText().replace("ROMEO", "HAMLET").replace("love", "zeal");
        Path second = Files.writeString(dir.resolve("second.txt"), other);
        CliRun f = CliRun.of("finetune", "--from", source.getFileName().toString(), "--data", second.toString(),
                "--iters", "6", "--threads", "1", "--out", runs.toString());
        assertEquals(0, f.exit(), f.out() + f.err());
        assertTrue(f.out().contains("new), 6 iterations") && f.out().contains("validation loss before fine-tuning"),
                f.out());
        try (Stream<Path> s = Files.list(runs)) {
            assertEquals(2, s.count());
        }
        CliRun g = CliRun.of("generate", "--runs", runs.toString(), "--prompt", "HAMLET:", "--tokens", "10");
        assertNotEquals(-1, g.exit());
    }

    @Test
    void badInputIsAClearError() throws Exception {
        Path runs = dir.resolve("runs");
        CliRun missing = CliRun.of("finetune", "--from", "no-such-model", "--out", runs.toString());
        assertEquals(2, missing.exit(), missing.out() + missing.err());
        assertTrue(missing.err().contains("no run 'no-such-model'"), missing.err());

        Path onnx = Files.write(dir.resolve("broken.onnx"), new byte[] {8, 7, 0x3a, 0x7f, 1, 2});
        Files.writeString(dir.resolve("tokenizer.json"), "{}");
        CliRun broken = CliRun.of("finetune", "--from", onnx.toString(), "--out", runs.toString());
        assertNotEquals(0, broken.exit(), broken.out() + broken.err());
        assertTrue(broken.err().contains("broken.onnx") && broken.err().contains("truncated"), broken.err());

        CliRun unfreeze = CliRun.of("finetune", "--from", bertFolder().toString(), "--unfreeze-after", "1",
                "--data", csv("t.csv", 9, 1).toString(), "--test", csv("u.csv", 9, 2).toString(), "--out",
                runs.toString());
        assertEquals(2, unfreeze.exit(), unfreeze.out() + unfreeze.err());
        assertTrue(unfreeze.err().contains("--unfreeze-after needs --freeze-encoder"), unfreeze.err());
    }
}
