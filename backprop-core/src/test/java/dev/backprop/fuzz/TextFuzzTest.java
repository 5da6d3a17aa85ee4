package dev.backprop.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.backprop.data.DataException;
import dev.backprop.data.LabeledTexts;
import dev.backprop.data.SentencePairs;
import dev.backprop.data.TextFiles;

/** The text readers: UTF-8 decoding, TSV sentence pairs, CSV labeled texts, on arbitrary bytes. */
class TextFuzzTest {
    @FuzzTest(maxDuration = "20s")
    void read(byte[] data) {
        Fuzz.expect(() -> TextFiles.decode(data, "fuzz", TextFiles.InvalidUtf8.FAIL), DataException.class);
        Fuzz.expect(() -> TextFiles.decode(data, "fuzz", TextFiles.InvalidUtf8.REPLACE), DataException.class);
        var tsv = Fuzz.file("pairs.tsv", data);
        Fuzz.expect(() -> SentencePairs.read(tsv), DataException.class);
        Fuzz.expect(() -> SentencePairs.read(tsv, SentencePairs.Options.DEFAULT
                .withInvalidUtf8(TextFiles.InvalidUtf8.REPLACE)), DataException.class);
        var csv = Fuzz.file("texts.csv", data);
        Fuzz.expect(() -> LabeledTexts.read(csv, LabeledTexts.Options.DEFAULT), DataException.class);
        Fuzz.expect(() -> LabeledTexts.read(csv, LabeledTexts.Options.DEFAULT
                .withUnknownLabels(LabeledTexts.UnknownLabels.SKIP)
                .withInvalidUtf8(TextFiles.InvalidUtf8.REPLACE)), DataException.class);
    }
}
