package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.backprop.data.DataException;
import dev.backprop.data.LabeledTexts;
import dev.backprop.data.LabeledTexts.UnknownLabels;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextClassificationTest {
    private static final LabeledTexts.Options CSV = LabeledTexts.Options.of("text", "category");
    /** Small and quick: the generated intents need no more. */
    private static final TextClassification.Options SMALL = TextClassification.Options.defaults()
            .withVocabSize(300).withModel(24, List.of(1, 2), 24).withEpochs(12).withBatchSize(32).withLr(5e-3);

    @TempDir
    Path dir;

    @Test
    void learnsGeneratedIntentsAndSavesAndLoads() throws IOException {
        LabeledTexts train = LabeledTexts.read(IntentCsv.write(dir.resolve("train.csv"), 60, 1), CSV);
        LabeledTexts test = LabeledTexts.readLike(IntentCsv.write(dir.resolve("test.csv"), 15, 2), train, CSV);
        TextClassification clf = TextClassification.train(train, SMALL);
        assertEquals(IntentCsv.INTENTS.stream().sorted().toList(), clf.classes());
        assertEquals(train.size(), clf.trainingExamples() + clf.validationExamples());
        assertTrue(clf.validationExamples() > 0, "10% held out");
        Evaluation e = clf.evaluate(test);
        assertTrue(e.accuracy() > 0.9, "test accuracy " + e.accuracy() + "\n" + e.confusion().report());
        assertEquals("card_arrival", e.confusion().label(0));

        List<TextClassification.Prediction> top = clf.predict("HELLO, I LOST MY CARD", 3);
        assertEquals(3, top.size());
        assertEquals("lost_or_stolen_card", top.get(0).label(), top.toString());
        assertTrue(top.get(0).probability() >= top.get(1).probability()
                && top.get(1).probability() >= top.get(2).probability());

        clf.save(dir.resolve("model"));
        for (String f : List.of("model.safetensors", "tokenizer.json", "classifier.json")) {
            assertTrue(Files.isRegularFile(dir.resolve("model").resolve(f)), f);
        }
        TextClassification loaded = TextClassification.load(dir.resolve("model"));
        assertEquals(clf.classes(), loaded.classes());
        List<TextClassification.Prediction> again = loaded.predict("HELLO, I LOST MY CARD", 3);
        for (int i = 0; i < 3; i++) {
            assertEquals(top.get(i).label(), again.get(i).label());
            assertEquals(top.get(i).probability(), again.get(i).probability(), 1e-6);
        }
        assertEquals(e.accuracy(), loaded.evaluate(test).accuracy(), 1e-12);
    }

    @Test
    void badInputIsAClearError() throws IOException {
        LabeledTexts train = LabeledTexts.read(IntentCsv.write(dir.resolve("train.csv"), 10, 1), CSV);
        TextClassification clf = TextClassification.train(train, SMALL.withEpochs(1).withMaxLength(4));
        assertTrue(clf.truncated() > 0, "texts longer than 4 tokens are cut and counted");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> clf.predict("", 3));
        assertEquals("text is empty; expected a text to classify", e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> clf.predict(List.of("fine", "  "), 1));
        assertEquals("text 1 is empty (only whitespace); expected a text to classify", e.getMessage());

        Path other = Files.writeString(dir.resolve("other.csv"), "text,category\nhello,greeting\n");
        LabeledTexts otherTexts = LabeledTexts.read(other, CSV);
        e = assertThrows(IllegalArgumentException.class, () -> clf.evaluate(otherTexts));
        assertTrue(e.getMessage().contains("read them with LabeledTexts.readLike"), e.getMessage());
        // a test file read with the saved classes: the unknown label is skipped and counted
        LabeledTexts withClasses = LabeledTexts.readWithClasses(Files.writeString(dir.resolve("t.csv"),
                "text,category\nhello,greeting\nmy card was stolen,lost_or_stolen_card\n"), clf.classes(),
                CSV.withUnknownLabels(UnknownLabels.SKIP));
        assertEquals(1, withClasses.size());
        assertEquals(1, withClasses.skipped());
        assertEquals(1, clf.evaluate(withClasses).examples());

        Path empty = Files.createDirectories(dir.resolve("empty"));
        DataException d = assertThrows(DataException.class, () -> TextClassification.load(empty));
        assertTrue(d.getMessage().contains("classifier.json"), d.getMessage());
    }

    /**
     * Banking77 with the default options: minutes, so only with {@code -Dbackprop.banking77=true}
     * (and skipped when ../shared/data is absent).
     */
    @Test
    void banking77FromScratch() {
        assumeTrue(Boolean.getBoolean("backprop.banking77"), "skipped: trains on Banking77 for minutes; run with "
                + "-Dbackprop.banking77=true");
        Path data = Files.isDirectory(Path.of("../../shared/data")) ? Path.of("../../shared/data")
                : Path.of("../shared/data");
        assumeTrue(Files.isRegularFile(data.resolve("banking77-train.csv")), "skipped: banking77-train.csv is not "
                + "in ../../shared/data or ../shared/data");
        LabeledTexts train = LabeledTexts.read(data.resolve("banking77-train.csv"), CSV);
        LabeledTexts test = LabeledTexts.readLike(data.resolve("banking77-test.csv"), train, CSV);
        long start = System.nanoTime();
        TextClassification clf = TextClassification.train(train, TextClassification.Options.defaults(),
                List.of(new ProgressBar()));
        Evaluation e = clf.evaluate(test);
        System.out.printf("Banking77: test accuracy %.4f, macro-F1 %.4f, %.1f min; most confused %s%n",
                e.accuracy(), e.confusion().macroF1(), (System.nanoTime() - start) / 6e10,
                e.confusion().mostConfused(10));
        assertTrue(e.accuracy() >= 0.88, "test accuracy " + e.accuracy());
    }
}
