package dev.backprop.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No Java deserialization and no reflection driven by file contents in the project's code: every
 * file format is parsed by hand into plain values (safetensors, IDX, CSV, JSON). The sources of
 * the core and command-line modules and the compiled core classes are searched for the classes
 * and methods that would let a file name code to run. (backprop-spark is left out: Spark itself
 * ships closures between its processes with Java serialization; it reads no file that way.)
 */
class NoDeserializationTest {
    /**
     * Java deserialization, XML bean decoding, script engines, and reflective lookups by a name that
     * is not a string literal in the code (probing the class path for an optional module by a
     * constant name, as {@code train --spark} does, names no class a file could choose).
     */
    private static final Pattern FORBIDDEN = Pattern.compile("ObjectInputStream|\\breadObject\\s*\\(|XMLDecoder"
            + "|Class\\.forName\\s*\\((?!\\s*\")|\\.getDeclaredMethod\\s*\\((?!\\s*\")|\\.getMethod\\s*\\((?!\\s*\")"
            + "|\\.getDeclaredField\\s*\\((?!\\s*\")|\\.newInstance\\s*\\(|setAccessible\\s*\\(|ScriptEngine"
            + "|findVirtual\\s*\\(|findStatic\\s*\\(");

    private static final List<String> FORBIDDEN_CLASSES = List.of("java/io/ObjectInputStream", "java/beans/XMLDecoder",
            "javax/script/ScriptEngine");

    @Test
    void noSourceFileDeserializesOrReflectsOnNames() throws IOException {
        List<String> found = new ArrayList<>();
        int files = 0;
        for (Path root : List.of(Path.of("src/main/java"), Path.of("../backprop-cli/src/main/java"))) {
            if (!Files.isDirectory(root)) {
                continue;
            }
            try (Stream<Path> all = Files.walk(root)) {
                for (Path f : all.filter(p -> p.toString().endsWith(".java")).toList()) {
                    files++;
                    List<String> lines = Files.readAllLines(f, StandardCharsets.UTF_8);
                    for (int i = 0; i < lines.size(); i++) {
                        if (FORBIDDEN.matcher(lines.get(i)).find()) {
                            found.add(f + ":" + (i + 1) + ": " + lines.get(i).strip());
                        }
                    }
                }
            }
        }
        assertTrue(files > 100, "the sources were found (" + files + " files)");
        assertEquals(List.of(), found);
    }

    @Test
    void noCompiledClassReferencesADeserializer() throws IOException {
        Path classes = Path.of("target/classes");
        List<String> found = new ArrayList<>();
        int files = 0;
        try (Stream<Path> all = Files.walk(classes)) {
            for (Path f : all.filter(p -> p.toString().endsWith(".class")).toList()) {
                files++;
                String bytes = new String(Files.readAllBytes(f), StandardCharsets.ISO_8859_1);
                for (String c : FORBIDDEN_CLASSES) {
                    if (bytes.contains(c)) {
                        found.add(classes.relativize(f) + " refers to " + c);
                    }
                }
            }
        }
        assertTrue(files > 100, "the classes were found (" + files + " files)");
        assertEquals(List.of(), found);
    }
}
