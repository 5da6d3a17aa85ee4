package dev.backprop.train;

import dev.backprop.Backprop;
import dev.backprop.io.AtomicFiles;
import dev.backprop.io.Json;
import dev.backprop.nn.Module;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The folder of one training run, {@code runs/<id>/}: {@code manifest.json} (recipe, every
 * hyperparameter, seed, data files with their SHA-256, versions, final metrics, timings),
 * {@code metrics.jsonl} (one JSON object per logged step or epoch), {@code model.safetensors}
 * and checkpoints. Every file but the append-only log is written atomically.
 */
public final class RunFolder {
    private static final DateTimeFormatter ID_TIME = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss")
            .withZone(ZoneOffset.UTC);

    private final Path dir;
    private final String id;
    private final Map<String, Object> manifest = new LinkedHashMap<>();

    private RunFolder(Path dir, String id) {
        this.dir = dir;
        this.id = id;
    }

    /** Creates {@code <root>/<time>-<recipe>} (with a numeric suffix if it exists) and its manifest. */
    public static RunFolder create(Path root, String recipe) throws IOException {
        String base = ID_TIME.format(Instant.now()) + "-" + recipe.replaceAll("[^A-Za-z0-9_.-]", "_");
        Files.createDirectories(root);
        String id = base;
        for (int i = 2; ; i++) {
            try {
                Files.createDirectory(root.resolve(id));
                break;
            } catch (java.nio.file.FileAlreadyExistsException e) {
                id = base + "-" + i;
            }
        }
        RunFolder run = new RunFolder(root.resolve(id), id);
        run.manifest.put("id", id);
        run.manifest.put("recipe", recipe);
        run.manifest.put("created", Instant.now().toString());
        Map<String, Object> versions = new LinkedHashMap<>();
        versions.put("backprop", Backprop.version());
        versions.put("java", Runtime.version().toString());
        versions.put("os", System.getProperty("os.name") + " " + System.getProperty("os.arch"));
        versions.put("kernels", dev.backprop.kernels.Kernels.get().getClass().getSimpleName());
        run.manifest.put("versions", versions);
        run.writeManifest();
        return run;
    }

    public Path dir() {
        return dir;
    }

    public String id() {
        return id;
    }

    /** Sets a manifest entry (a JSON-compatible value) and rewrites the manifest. */
    public synchronized void put(String key, Object value) throws IOException {
        manifest.put(key, value);
        writeManifest();
    }

    /** Records a data file with its size and SHA-256 under {@code data.<role>}. */
    @SuppressWarnings("unchecked")
    public synchronized void recordData(String role, Path file) throws IOException {
        Map<String, Object> data = (Map<String, Object>) manifest.computeIfAbsent("data", k -> new LinkedHashMap<>());
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("path", file.toAbsolutePath().toString());
        entry.put("bytes", Files.size(file));
        entry.put("sha256", sha256(file));
        data.put(role, entry);
        writeManifest();
    }

    /** Appends one record to {@code metrics.jsonl}. */
    public void log(Map<String, Object> record) throws IOException {
        AtomicFiles.appendLine(dir.resolve("metrics.jsonl"), Json.write(record));
    }

    /** Saves the model as {@code model.safetensors} (atomically) and records its checksum. */
    public Path saveModel(Module model) throws IOException {
        Path file = dir.resolve("model.safetensors");
        model.save(file);
        recordArtifact(file.getFileName().toString());
        return file;
    }

    /**
     * Records the size and SHA-256 of a file of this run (written atomically beforehand) under
     * {@code artifacts.<name>} of the manifest; {@link #verifyArtifacts(Path)} checks them when the
     * run is loaded again.
     */
    @SuppressWarnings("unchecked")
    public synchronized void recordArtifact(String name) throws IOException {
        Path file = dir.resolve(name);
        Map<String, Object> artifacts = (Map<String, Object>) manifest.computeIfAbsent("artifacts",
                k -> new LinkedHashMap<>());
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("bytes", Files.size(file));
        entry.put("sha256", sha256(file));
        artifacts.put(name, entry);
        writeManifest();
    }

    /**
     * Checks every file the run's manifest records under {@code artifacts} against its SHA-256:
     * eval, predict, generate, translate and {@code --init-from} call it before loading a run.
     * A manifest without artifacts (an older run) passes; a recorded file that is missing or
     * differs fails.
     *
     * @throws IllegalArgumentException naming the file, the recorded and the actual hash
     * @throws IOException if the manifest or a file cannot be read
     */
    public static void verifyArtifacts(Path runDir) throws IOException {
        Path manifestFile = runDir.resolve("manifest.json");
        if (!Files.isRegularFile(manifestFile)) {
            return;
        }
        Map<String, Object> m;
        try {
            m = Json.parseObject(Files.readString(manifestFile));
        } catch (IllegalArgumentException | java.nio.charset.CharacterCodingException e) {
            throw new IllegalArgumentException(manifestFile + " is corrupt: " + e.getMessage(), e);
        }
        if (!(m.get("artifacts") instanceof Map<?, ?> artifacts)) {
            return;
        }
        for (Map.Entry<?, ?> e : artifacts.entrySet()) {
            String name = String.valueOf(e.getKey());
            if (name.contains("/") || name.contains("\\") || name.startsWith(".")) {
                throw new IllegalArgumentException(manifestFile + ": artifact name '" + name + "' is not a plain file"
                        + " name of the run folder");
            }
            if (!(e.getValue() instanceof Map<?, ?> entry) || !(entry.get("sha256") instanceof String expected)) {
                throw new IllegalArgumentException(manifestFile + ": artifacts." + name + " has no sha256");
            }
            Path file = runDir.resolve(name);
            if (!Files.isRegularFile(file)) {
                throw new IllegalArgumentException(file + " is missing, but the manifest records it (SHA-256 "
                        + expected + ")");
            }
            String actual = sha256(file);
            if (!actual.equals(expected)) {
                throw new IllegalArgumentException(file + " does not match its checksum in " + manifestFile
                        + ": recorded SHA-256 " + expected + ", the file hashes to " + actual + "; the file is corrupt"
                        + " or was replaced; restore it or train again");
            }
        }
    }

    /** A copy of the manifest as it stands. */
    public synchronized Map<String, Object> manifest() {
        return new LinkedHashMap<>(manifest);
    }

    private void writeManifest() throws IOException {
        AtomicFiles.writeString(dir.resolve("manifest.json"), Json.write(manifest) + "\n");
    }

    /** SHA-256 of a file, hex. */
    public static String sha256(Path file) throws IOException {
        return AtomicFiles.sha256(file);
    }
}
