package dev.backprop.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.backprop.autograd.GradMode;
import dev.backprop.io.SafeTensors;
import dev.backprop.tensor.Generator;
import dev.backprop.tensor.Tensor;
import dev.backprop.train.FineTuning;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The BERT encoder: HuggingFace names, padding, pooling, and loading a PyTorch state dict by name. */
class BertTest {
    @TempDir
    Path dir;

    static Bert tiny(long seed) {
        Generator.defaultGenerator().manualSeed(seed);
        Bert b = new Bert(new Bert.Config(50, 16, 2, 4, 32, 24, 2, 1e-12f, 0.1f, false));
        b.eval();
        return b;
    }

    @Test
    void huggingFaceKeysAndMiniLmSize() {
        Bert b = tiny(1);
        Map<String, Tensor> sd = b.stateDict();
        for (String k : new String[] {"embeddings.word_embeddings.weight", "embeddings.position_embeddings.weight",
                "embeddings.token_type_embeddings.weight", "embeddings.LayerNorm.weight", "embeddings.LayerNorm.bias",
                "encoder.layer.1.attention.self.query.weight", "encoder.layer.1.attention.self.key.bias",
                "encoder.layer.1.attention.self.value.weight", "encoder.layer.1.attention.output.dense.weight",
                "encoder.layer.1.attention.output.LayerNorm.bias", "encoder.layer.1.intermediate.dense.weight",
                "encoder.layer.1.output.dense.bias", "encoder.layer.1.output.LayerNorm.weight"}) {
            assertTrue(sd.containsKey(k), k + " missing from " + sd.keySet());
        }
        assertEquals(5 + 2 * 16, sd.size());
        // all-MiniLM-L6-v2 without its pooler: 22,565,376 parameters (HuggingFace counts 22,713,216 with it)
        assertEquals(22_565_376L, new Bert(Bert.Config.miniLmL6()).parameterCount());
    }

    @Test
    void paddingDoesNotChangeTheRealTokens() {
        Bert b = tiny(2);
        long[] ids = {2, 7, 9, 11, 3};
        Tensor alone;
        Tensor padded;
        try (var ignored = GradMode.noGrad()) {
            alone = b.encode(Tensor.ofLongs(ids, 1, 5), null);
            long[] two = {2, 7, 9, 11, 3, 0, 0, 0, 2, 5, 6, 7, 8, 9, 10, 3};
            float[] mask = {1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1};
            padded = b.encode(Tensor.ofLongs(two, 2, 8), Tensor.of(mask, 2, 8));
            Tensor pooledAlone = Bert.meanPool(alone, null);
            Tensor pooledPadded = Bert.meanPool(padded, Tensor.of(mask, 2, 8));
            float[] a = pooledAlone.contiguous().toFloatArray();
            float[] p = pooledPadded.contiguous().toFloatArray();
            for (int k = 0; k < 16; k++) {
                assertEquals(a[k], p[k], 1e-5, "pooled " + k);
            }
        }
        float[] a = alone.contiguous().toFloatArray();
        float[] p = padded.contiguous().toFloatArray();
        for (int i = 0; i < 5 * 16; i++) {
            assertEquals(a[i], p[i], 1e-5, "element " + i);
        }
        assertThrows(IllegalStateException.class, () -> b.pool(alone));
        assertThrows(IllegalArgumentException.class, () -> b.encode(Tensor.ofLongs(new long[30], 1, 30), null));
    }

    @Test
    void loadsAPyTorchStateDictWithANameMappingAndReportsWhatDidNotMatch() throws Exception {
        Bert source = tiny(3);
        Map<String, Tensor> hf = new LinkedHashMap<>();
        source.stateDict().forEach((k, v) -> hf.put("bert." + k, v));
        hf.put("cls.predictions.bias", Tensor.zeros(50));
        Path file = dir.resolve("model.safetensors");
        SafeTensors.write(file, hf);

        Bert target = tiny(4);
        FineTuning.Result r = FineTuning.loadMatching(target, file, k -> k.startsWith("bert.") ? k.substring(5) : k);
        assertEquals(source.stateDict().size(), r.loaded().size());
        assertTrue(r.missing().isEmpty() && r.reinitialised().isEmpty(), r.report());
        assertEquals(java.util.List.of("cls.predictions.bias"), r.unused());
        assertTrue(r.report().contains("1 tensors of the file match no model key: [cls.predictions.bias]"), r.report());
        Tensor ids = Tensor.ofLongs(new long[] {2, 4, 6, 3}, 1, 4);
        try (var ignored = GradMode.noGrad()) {
            assertTrue(source.encode(ids, null).allClose(target.encode(ids, null), 0, 0));
        }

        // without the mapping nothing matches: a clear error naming both sides
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> FineTuning.loadMatching(tiny(5), file));
        assertTrue(e.getMessage().contains("bert.embeddings") && e.getMessage().contains("name mapping"),
                e.getMessage());
    }
}
