package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.LabeledTexts;
import dev.backprop.data.LabeledTexts.UnknownLabels;
import dev.backprop.models.Bert;
import dev.backprop.onnx.MiniLm;
import dev.backprop.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java example of docs/pretrained.md, run as written with the real all-MiniLM-L6-v2 (from the
 * test-scope langchain4j jar) on a small generated CSV in Banking77's format, and kept in sync
 * with the page.
 */
class PretrainedExampleTest {
    @TempDir
    Path dir;

    @Test
    void docsPretrainedExampleRunsAsWritten() throws Exception {
        Path trainCsv = IntentCsv.write(dir.resolve("train.csv"), 20, 1);
        Path testCsv = IntentCsv.write(dir.resolve("test.csv"), 4, 2);
        Path modelDir = dir.resolve("minilm-intent");

        PretrainedEncoder pre = PretrainedEncoder.fromZip(MiniLm.jar());
        int[] ids = pre.tokenizer().encodeForModel("I lost my card", 128);   // [CLS] i lost my card [SEP]
        Tensor batch = Tensor.ofLongs(Arrays.stream(ids).asLongStream().toArray(), 1, ids.length);
        Tensor hidden = pre.model().encode(batch, null);       // (1, 6, 384): the token embeddings
        Tensor sentence = Bert.meanPool(hidden, null);          // (1, 384): the sentence embedding

        var csv = LabeledTexts.Options.of("text", "category");
        LabeledTexts train = LabeledTexts.read(trainCsv, csv);
        LabeledTexts test = LabeledTexts.readLike(testCsv, train, csv.withUnknownLabels(UnknownLabels.SKIP));
        var options = BertFineTuning.Options.defaults().withFrozenEncoder(true, 0).withEpochs(80).withLr(3e-2, 1e-4);
        BertFineTuning clf = BertFineTuning.train(pre.model(), pre.tokenizer(), train, options);
        Evaluation result = clf.evaluate(test);
        System.out.println(result.accuracy() + " " + clf.predict("I lost my card", 3));
        clf.save(modelDir);   // model.safetensors, tokenizer.json, classifier.json
        BertFineTuning again = BertFineTuning.load(modelDir);

        assertArrayEquals(new int[] {101, 1045, 2439, 2026, 4003, 102}, ids);
        assertArrayEquals(new int[] {1, 384}, sentence.shape());
        assertTrue(result.accuracy() > 0.9, "accuracy " + result.accuracy());
        assertEquals("lost_or_stolen_card", clf.predict("I lost my card", 1).get(0).label());
        assertEquals(clf.predict("I lost my card", 1).get(0).label(), again.predict("I lost my card", 1).get(0).label());
    }

    @Test
    void docsShowThisExample() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "pretrained.md"));
        int start = page.indexOf("```java", page.indexOf("## From Java"));
        int end = page.indexOf("```", start + 7);
        String source = Files.readString(Path.of("src", "test", "java", "dev", "backprop", "train",
                "PretrainedExampleTest.java"));
        for (String line : page.substring(start + 7, end).split("\n")) {
            // the doc loads by alias and reads your files; the test reads the jar on its class path
            if (!line.isBlank() && !line.strip().startsWith("PretrainedEncoder pre =")
                    && !line.strip().startsWith("Path ")) {
                assertTrue(source.contains(line.strip()), "docs/pretrained.md line not in the test: " + line);
            }
        }
        assertTrue(page.contains(PretrainedEncoder.MINILM_GET), "the page gives the command that fetches the jar");
    }
}
