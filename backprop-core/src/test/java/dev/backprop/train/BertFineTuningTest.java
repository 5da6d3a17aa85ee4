package dev.backprop.train;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.data.LabeledTexts;
import dev.backprop.models.Bert;
import dev.backprop.models.BertClassifier;
import dev.backprop.optim.AdamW;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import dev.backprop.text.WordPieceTokenizer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Smoke tests of fine-tuning a (tiny, random) BERT encoder into a classifier: the loss falls, a
 * frozen encoder stays as it was, gradual unfreezing trains it later, the discriminative learning
 * rates land in the optimizer's groups, and a saved classifier predicts the same after loading.
 */
class BertFineTuningTest {
    @TempDir
    Path dir;

    static final List<String> WORDS = List.of("card", "lost", "stolen", "pin", "blocked", "transfer", "money", "sent",
            "rate", "exchange", "my", "the", "is", "i", "how", "what", "do");

    static WordPieceTokenizer tokenizer() {
        List<String> vocab = new ArrayList<>(List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "?", "."));
        vocab.addAll(WORDS);
        return new WordPieceTokenizer(vocab, List.of("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"),
                new WordPieceTokenizer.Options(true, true, true, true, "##", 100, "[UNK]", "[CLS]", "[SEP]", "[PAD]",
                        32));
    }

    static Bert encoder(long seed) {
        Generator.defaultGenerator().manualSeed(seed);
        return new Bert(new Bert.Config(tokenizer().vocabSize(), 16, 2, 2, 32, 32, 2, 1e-12f, 0.0f, false));
    }

    static LabeledTexts data(Path dir) throws Exception {
        String[][] kinds = {
            {"lost_card", "i lost my card", "my card is lost", "lost card", "card lost ?", "how do i lost card"},
            {"transfer", "transfer money", "my transfer is sent", "money sent ?", "how do i transfer", "sent money"},
            {"rate", "exchange rate", "what is the rate", "the exchange rate ?", "rate is", "what exchange rate"}};
        StringBuilder csv = new StringBuilder("text,label\n");
        for (int rep = 0; rep < 3; rep++) {
            for (String[] k : kinds) {
                for (int i = 1; i < k.length; i++) {
                    csv.append(k[i]).append(rep == 0 ? "" : rep == 1 ? " ." : " ?").append(',').append(k[0]).append('\n');
                }
            }
        }
        Path f = dir.resolve("tiny.csv");
        Files.writeString(f, csv);
        return LabeledTexts.read(f, LabeledTexts.Options.of("text", "label"));
    }

    static BertFineTuning.Options options() {
        return new BertFineTuning.Options(16, 12, 8, 1e-2, 3e-3, 0.01, 0.1, 0.0f, false, 0, 0, 0.0, 7);
    }

    @Test
    void lossFallsAndTheClassifierSavesAndLoads() throws Exception {
        LabeledTexts data = data(dir);
        BertFineTuning clf = BertFineTuning.train(encoder(1), tokenizer(), data, options());
        List<EpochReport> epochs = clf.history().epochs();
        assertTrue(epochs.getLast().trainLoss() < 0.5 * epochs.getFirst().trainLoss(),
                "loss " + epochs.getFirst().trainLoss() + " -> " + epochs.getLast().trainLoss());
        assertTrue(clf.evaluate(data).accuracy() > 0.9, "train accuracy " + clf.evaluate(data).accuracy());
        assertEquals("lost_card", clf.predict("I lost my card!", 1).get(0).label());

        clf.save(dir.resolve("model"));
        assertTrue(BertFineTuning.isSaved(dir.resolve("model")));
        BertFineTuning back = BertFineTuning.load(dir.resolve("model"));
        var a = clf.predict(List.of("what is the exchange rate", "money sent"), 3);
        var b = back.predict(List.of("what is the exchange rate", "money sent"), 3);
        for (int i = 0; i < 2; i++) {
            for (int j = 0; j < 3; j++) {
                assertEquals(a.get(i).get(j).label(), b.get(i).get(j).label());
                assertEquals(a.get(i).get(j).probability(), b.get(i).get(j).probability(), 1e-5);
            }
        }
        assertThrows(IllegalArgumentException.class, () -> clf.predict(" ", 1));
    }

    @Test
    void frozenEncoderStaysAndUnfreezingTrainsItLater() throws Exception {
        LabeledTexts data = data(dir);
        Bert frozen = encoder(2);
        Map<String, Tensor> before = copy(frozen.stateDict());
        BertFineTuning head = BertFineTuning.train(frozen, tokenizer(), data,
                options().withEpochs(4).withFrozenEncoder(true, 0));
        before.forEach((k, v) -> assertTrue(v.allClose(frozen.stateDict().get(k), 0, 0), k + " changed"));
        List<EpochReport> epochs = head.history().epochs();
        assertTrue(epochs.getLast().trainLoss() < epochs.getFirst().trainLoss(), "the head learns");

        Bert later = encoder(3);
        Map<String, Tensor> start = copy(later.stateDict());
        List<Boolean> changedAfterEpoch = new ArrayList<>();
        TrainingListener watch = new TrainingListener() {
            @Override
            public void onEpochEnd(Trainer t, EpochReport e) {
                changedAfterEpoch.add(!start.get("encoder.layer.0.attention.self.query.weight")
                        .allClose(later.stateDict().get("encoder.layer.0.attention.self.query.weight"), 0, 0));
            }
        };
        BertFineTuning.train(later, tokenizer(), data, options().withEpochs(3).withFrozenEncoder(true, 1),
                List.of(watch));
        // the unfreezing listener runs before this one at the end of epoch 1, so epoch 1 trained frozen
        assertEquals(List.of(false, true, true), changedAfterEpoch);
        assertThrows(IllegalArgumentException.class, () -> options().withFrozenEncoder(false, 2));
    }

    @Test
    void discriminativeLearningRatesAreParameterGroups() {
        Bert bert = encoder(4);
        BertClassifier model = new BertClassifier(bert, 3, 0, 0.1f);
        BertFineTuning.Options o = options().withLr(1e-3, 2e-5);
        AdamW opt = BertFineTuning.optimizer(model, o);
        assertEquals(3, opt.paramGroups().size());
        assertEquals(1e-3, opt.paramGroups().get(0).lr());
        assertEquals(model.head().parameters(), opt.paramGroups().get(0).params());
        assertEquals(2e-5, opt.paramGroups().get(1).lr());
        assertEquals(2e-5, opt.paramGroups().get(2).lr());
        assertEquals(0.0, opt.paramGroups().get(2).get("weight_decay"), "no decay on biases and LayerNorms");
        int grouped = opt.paramGroups().stream().mapToInt(g -> g.params().size()).sum();
        assertEquals(model.parameters().size(), grouped, "every parameter in exactly one group");
    }

    private static Map<String, Tensor> copy(Map<String, Tensor> sd) {
        Map<String, Tensor> out = new java.util.LinkedHashMap<>();
        sd.forEach((k, v) -> out.put(k, Tensor.of(v.contiguous().toFloatArray().clone(), v.shape())));
        return out;
    }
}
