package dev.backprop.io;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Objects;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Predicate;

/**
 * Writes files so that a crash never leaves a half-written one: the bytes go to a hidden temporary
 * file in the same folder ({@code .<name>.<random>.tmp}), which is flushed to disk, renamed over the
 * target in one step, and the folder is flushed too so that the rename survives a power cut. A
 * reader (or a process resuming after {@code kill -9}) sees either the old file or the new one,
 * never a mixture; a failed write (a full disk, an unwritable folder) deletes its temporary file
 * and leaves the old file as it was.
 *
 * <p>{@link #simulateFailure} makes writes fail on purpose, for tests of those failure paths.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** A simulated failure in force: which targets, and the message of the {@link IOException}. */
    private record Fault(Predicate<Path> targets, String message) {}

    private static volatile Fault fault;

    /** Atomically replaces {@code file} with {@code bytes}. */
    public static void write(Path file, byte[] bytes) throws IOException {
        Path target = file.toAbsolutePath();
        Path dir = target.getParent();
        Files.createDirectories(dir);
        Path tmp = dir.resolve("." + file.getFileName() + "." + Long.toHexString(ThreadLocalRandom.current().nextLong())
                + ".tmp");
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.wrap(bytes);
                if (fault != null) {
                    buf.limit(bytes.length / 2);
                    writeFully(ch, buf);
                    checkFault(target);
                    buf.limit(bytes.length);
                }
                writeFully(ch, buf);
                ch.force(true);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
        syncDirectory(dir);
    }

    private static void writeFully(FileChannel ch, ByteBuffer buf) throws IOException {
        while (buf.hasRemaining()) {
            ch.write(buf);
        }
    }

    /** Atomically replaces {@code file} with UTF-8 text. */
    public static void writeString(Path file, String text) throws IOException {
        write(file, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Appends one line (UTF-8, newline added) in one write: for logs read while they grow. A process
     * killed while appending leaves either the whole line or none of it (the kernel finishes a
     * write call before the process dies); readers skip an incomplete last line all the same.
     */
    public static void appendLine(Path file, String line) throws IOException {
        checkFault(file.toAbsolutePath());
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.APPEND)) {
            writeFully(ch, ByteBuffer.wrap((line + "\n").getBytes(StandardCharsets.UTF_8)));
        }
    }

    /**
     * Deletes the hidden temporary files that writes of {@code file} left behind when their process
     * was killed ({@code .<name>.<random>.tmp} next to it); returns how many. Call it only when no
     * other process is writing that file.
     */
    public static int deleteStaleTemporaries(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        String prefix = "." + file.getFileName() + ".";
        int n = 0;
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        try (var entries = Files.newDirectoryStream(dir, p -> {
            String name = p.getFileName().toString();
            return name.startsWith(prefix) && name.endsWith(".tmp");
        })) {
            for (Path p : entries) {
                if (Files.deleteIfExists(p)) {
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Flushes a folder's entries to disk (makes a rename in it durable) where the platform allows
     * it (Linux, macOS); ignored elsewhere.
     */
    public static void syncDirectory(Path dir) {
        try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
            channel.force(true);
        } catch (IOException | RuntimeException ignored) {
            // Windows cannot open directories; the file itself is already on disk
        }
    }

    /** SHA-256 of a file, as 64 lowercase hex digits. */
    public static String sha256(Path file) throws IOException {
        MessageDigest md = sha256();
        try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer buf = ByteBuffer.allocate(1 << 16);
            while (ch.read(buf) >= 0) {
                buf.flip();
                md.update(buf);
                buf.clear();
            }
        }
        return HexFormat.of().formatHex(md.digest());
    }

    /** SHA-256 of bytes, as 64 lowercase hex digits. */
    public static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(sha256().digest(bytes));
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is missing from this JVM", e);
        }
    }

    /**
     * For tests of the failure paths: until the returned scope is closed, every atomic write in this
     * JVM whose target matches {@code targets} fails midway, after part of its temporary file is
     * written, with an {@link IOException} of this message (say, {@code "No space left on device"}),
     * as a full disk would make it fail. Appends to logs fail the same way, before writing.
     */
    public static FaultScope simulateFailure(Predicate<Path> targets, String message) {
        fault = new Fault(Objects.requireNonNull(targets, "targets"), Objects.requireNonNull(message, "message"));
        return new FaultScope();
    }

    /** Ends a {@link #simulateFailure simulated failure}. */
    public static final class FaultScope implements AutoCloseable {
        private FaultScope() {}

        @Override
        public void close() {
            fault = null;
        }
    }

    /** Throws the simulated failure if one is in force for {@code target}. */
    static void checkFault(Path target) throws IOException {
        Fault f = fault;
        if (f != null && f.targets().test(target)) {
            throw new IOException(f.message());
        }
    }
}
