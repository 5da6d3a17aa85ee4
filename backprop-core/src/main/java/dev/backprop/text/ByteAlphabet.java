package dev.backprop.text;

/**
 * GPT-2's printable alphabet for bytes ({@code bytes_to_unicode} in its {@code encoder.py}): the
 * bytes that are visible Latin-1 characters ({@code !}..{@code ~}, {@code ¡}..{@code ¬},
 * {@code ®}..{@code ÿ}) stand for themselves, the other 68 bytes (controls, space, soft hyphen)
 * map in byte order to U+0100, U+0101, ..., so a space is {@code Ġ} (U+0120) and a newline
 * {@code Ċ} (U+010A). A token's bytes then read as a string without invisible characters.
 */
final class ByteAlphabet {
    private static final char[] CHARS = new char[256];

    static {
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean visible = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            CHARS[b] = visible ? (char) b : (char) (256 + next++);
        }
    }

    private ByteAlphabet() {}

    /** The printable form of a byte sequence. */
    static String printable(byte[] bytes) {
        char[] out = new char[bytes.length];
        for (int i = 0; i < bytes.length; i++) {
            out[i] = CHARS[bytes[i] & 0xFF];
        }
        return new String(out);
    }
}
