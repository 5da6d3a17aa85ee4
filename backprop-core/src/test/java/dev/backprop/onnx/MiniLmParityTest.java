package dev.backprop.onnx;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import dev.backprop.autograd.GradMode;
import dev.backprop.models.Bert;
import dev.backprop.tensor.Tensor;
import dev.backprop.text.WordPieceTokenizer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * all-MiniLM-L6-v2 imported from its ONNX file against ONNX Runtime running the same file, and
 * WordPieceTokenizer against HuggingFace's tokenizers (Rust, through DJL) on the same
 * tokenizer.json, on 100+ varied sentences (test resource pretrained/sentences.txt).
 */
class MiniLmParityTest {
    private static final int BATCH = 16;
    private static WordPieceTokenizer tokenizer;
    private static Bert model;
    private static List<String> sentences;

    @BeforeAll
    static void load() throws Exception {
        tokenizer = WordPieceTokenizer.fromHuggingFace(MiniLm.tokenizerJson());
        model = OnnxBertImport.load(MiniLm.onnx()).model();
        sentences = MiniLm.sentences();
        assertTrue(sentences.size() >= 100, "expected 100+ sentences, found " + sentences.size());
    }

    @Test
    void tokenIdsMatchHuggingFaceTokenizers() throws Exception {
        try (HuggingFaceTokenizer hf = HuggingFaceTokenizer.builder().optTokenizerPath(MiniLm.tokenizerJson())
                .optPadding(false).optTruncation(false).optAddSpecialTokens(true).build()) {
            List<String> differ = new ArrayList<>();
            for (String s : sentences) {
                Encoding e = hf.encode(s);
                long[] expected = e.getIds();
                int[] got = tokenizer.encodeForModel(s, 512);
                long[] gotL = Arrays.stream(got).asLongStream().toArray();
                if (!Arrays.equals(expected, gotL)) {
                    differ.add(s + "\n  hf:       " + Arrays.toString(expected) + " " + Arrays.toString(e.getTokens())
                            + "\n  backprop: " + Arrays.toString(gotL));
                }
            }
            assertTrue(differ.isEmpty(), differ.size() + " of " + sentences.size() + " sentences tokenize differently:\n"
                    + String.join("\n", differ));
        }
    }

    @Test
    void hiddenStatesAndMeanPoolingMatchOnnxRuntime() throws Exception {
        OrtEnvironment env = OrtEnvironment.getEnvironment();
        double maxToken = 0;
        double maxPooled = 0;
        int tokens = 0;
        try (OrtSession.SessionOptions opts = new OrtSession.SessionOptions()) {
            opts.setIntraOpNumThreads(2);
            try (OrtSession session = env.createSession(MiniLm.onnx().toString(), opts)) {
                for (int from = 0; from < sentences.size(); from += BATCH) {
                    List<String> batch = sentences.subList(from, Math.min(sentences.size(), from + BATCH));
                    List<int[]> ids = new ArrayList<>();
                    int t = 0;
                    for (String s : batch) {
                        ids.add(tokenizer.encodeForModel(s, 256));
                        t = Math.max(t, ids.getLast().length);
                    }
                    int b = batch.size();
                    long[][] idArr = new long[b][t];
                    long[][] maskArr = new long[b][t];
                    long[][] typeArr = new long[b][t];
                    long[] flatIds = new long[b * t];
                    float[] flatMask = new float[b * t];
                    for (int i = 0; i < b; i++) {
                        for (int j = 0; j < ids.get(i).length; j++) {
                            idArr[i][j] = ids.get(i)[j];
                            maskArr[i][j] = 1;
                            flatIds[i * t + j] = ids.get(i)[j];
                            flatMask[i * t + j] = 1;
                        }
                    }
                    float[][][] expected;
                    try (OnnxTensor a = OnnxTensor.createTensor(env, idArr);
                            OnnxTensor m = OnnxTensor.createTensor(env, maskArr);
                            OnnxTensor ty = OnnxTensor.createTensor(env, typeArr);
                            OrtSession.Result r = session.run(Map.of("input_ids", a, "attention_mask", m,
                                    "token_type_ids", ty))) {
                        expected = (float[][][]) r.get(0).getValue();
                    }
                    Tensor mask = Tensor.of(flatMask, b, t);
                    Tensor hidden;
                    Tensor pooled;
                    try (var ignored = GradMode.noGrad()) {
                        hidden = model.encode(Tensor.ofLongs(flatIds, b, t), mask);
                        pooled = Bert.meanPool(hidden, mask);
                    }
                    float[] h = hidden.contiguous().toFloatArray();
                    float[] p = pooled.contiguous().toFloatArray();
                    int d = hidden.size(2);
                    assertEquals(384, d);
                    for (int i = 0; i < b; i++) {
                        int n = ids.get(i).length;
                        double[] ortPool = new double[d];
                        for (int j = 0; j < n; j++) {
                            tokens++;
                            for (int k = 0; k < d; k++) {
                                float e = expected[i][j][k];
                                maxToken = Math.max(maxToken, Math.abs(e - h[(i * t + j) * d + k]));
                                ortPool[k] += e / n;
                            }
                        }
                        for (int k = 0; k < d; k++) {
                            maxPooled = Math.max(maxPooled, Math.abs(ortPool[k] - p[i * d + k]));
                        }
                    }
                }
            }
        }
        System.out.printf("MiniLM parity over %d sentences (%d tokens): max |token embedding diff| = %.3g, "
                + "max |mean-pooled diff| = %.3g%n", sentences.size(), tokens, maxToken, maxPooled);
        assertTrue(maxToken < 1e-4, "token embeddings differ from ONNX Runtime by up to " + maxToken);
        assertTrue(maxPooled < 1e-4, "mean-pooled embeddings differ from ONNX Runtime by up to " + maxPooled);
    }

    @Test
    void knownTokenIds() {
        // hand-checked against bert-base-uncased's vocabulary
        assertArrayEquals(new int[] {101, 7592, 1010, 2088, 999, 102}, tokenizer.encodeForModel("Hello, world!", 512));
        assertEquals("hello, world!", tokenizer.decode(tokenizer.encode("Hello, world!")));
    }
}
