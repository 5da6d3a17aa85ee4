package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.LabeledTexts;
import dev.backprop.data.LabeledTexts.UnknownLabels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Java example of docs/intent.md, run as written on a small generated CSV in Banking77's format
 * (so that it runs anywhere), and kept in sync with the page.
 */
class IntentExampleTest {
    @TempDir
    Path dir;

    @Test
    void docsIntentExampleRunsAsWritten() throws Exception {
        Path trainCsv = IntentCsv.write(dir.resolve("train.csv"), 25, 1);
        Path testCsv = IntentCsv.write(dir.resolve("test.csv"), 10, 2);
        Path modelDir = dir.resolve("intent-model");

        var csv = LabeledTexts.Options.of("text", "category");
        LabeledTexts train = LabeledTexts.read(trainCsv, csv);
        LabeledTexts test = LabeledTexts.readLike(testCsv, train, csv.withUnknownLabels(UnknownLabels.SKIP));
        TextClassification clf = TextClassification.train(train, TextClassification.Options.defaults());
        Evaluation result = clf.evaluate(test);   // accuracy, macro-F1, confusion matrix with the intents' names
        System.out.println(result.accuracy() + " " + result.confusion().macroF1());
        System.out.println(result.confusion().mostConfused(10));
        List<TextClassification.Prediction> top3 = clf.predict("I lost my card", 3);   // likeliest first
        clf.save(modelDir);   // model.safetensors, tokenizer.json, classifier.json
        TextClassification again = TextClassification.load(modelDir);

        assertTrue(result.accuracy() > 0.9, "accuracy " + result.accuracy());
        assertEquals("lost_or_stolen_card", top3.get(0).label(), top3.toString());
        assertEquals(top3.get(0).label(), again.predict("I lost my card", 1).get(0).label());
    }

    @Test
    void docsShowThisExample() throws Exception {
        String page = Files.readString(Path.of("..", "docs", "intent.md"));
        int start = page.indexOf("```java", page.indexOf("## From Java"));
        int end = page.indexOf("```", start + 7);
        String source = Files.readString(Path.of("src", "test", "java", "dev", "backprop", "train",
                "IntentExampleTest.java"));
        for (String line : page.substring(start + 7, end).split("\n")) {
            if (!line.isBlank() && !line.strip().startsWith("Path ")) { // the paths differ: generated files here
                assertTrue(source.contains(line.strip()), "docs/intent.md line not in the test: " + line);
            }
        }
    }
}
