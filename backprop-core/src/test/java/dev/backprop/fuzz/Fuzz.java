package dev.backprop.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Shared rules of the fuzz targets: a parser may fail only with the exceptions its API documents,
 * each with a message; anything else (a NullPointerException, an ArrayIndexOutOfBoundsException,
 * an OutOfMemoryError from a lying length field, a StackOverflowError) fails the target and Jazzer
 * keeps the input.
 */
final class Fuzz {
    private Fuzz() {}

    /** Code under test. */
    interface Body {
        void run() throws Exception;
    }

    /** Runs {@code body}; an exception of one of the {@code allowed} types with a message is fine. */
    @SafeVarargs
    static void expect(Body body, Class<? extends Throwable>... allowed) {
        try {
            body.run();
        } catch (Throwable t) {
            for (Class<? extends Throwable> c : allowed) {
                if (c.isInstance(t)) {
                    if (t.getMessage() == null || t.getMessage().isBlank()) {
                        throw new AssertionError("documented exception without a message: " + t, t);
                    }
                    return;
                }
            }
            throw new AssertionError("undocumented failure " + t.getClass().getName() + ": " + t.getMessage(), t);
        }
    }

    private static final ThreadLocal<Path> DIR = ThreadLocal.withInitial(() -> {
        try {
            Path shm = Path.of("/dev/shm"); // in memory where there is one: the targets write a file per input
            Path d = Files.isDirectory(shm) && Files.isWritable(shm) ? Files.createTempDirectory(shm, "backprop-fuzz")
                    : Files.createTempDirectory("backprop-fuzz");
            d.toFile().deleteOnExit();
            return d;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    });

    /** Writes the input to a reused scratch file with this name and returns its path. */
    static Path file(String name, byte[] bytes) {
        try {
            Path f = DIR.get().resolve(name);
            Files.write(f, bytes);
            f.toFile().deleteOnExit();
            return f;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
