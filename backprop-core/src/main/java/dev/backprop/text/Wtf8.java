package dev.backprop.text;

/**
 * UTF-8 for any Java string, including one with unpaired surrogates (WTF-8): a well-formed string
 * becomes its standard UTF-8 bytes; an unpaired surrogate, which UTF-8 cannot represent, becomes
 * the three bytes of its code unit ({@code ED A0 80} for U+D800) instead of being replaced. The
 * decoder reverses this exactly, so {@code decode(encode(s)).equals(s)} for every string, and
 * replaces byte sequences that are neither UTF-8 nor such a surrogate by U+FFFD, one per maximal
 * invalid subpart (as Python's {@code errors="replace"} and Java's decoder do).
 *
 * <p>See <a href="https://simonsapin.github.io/wtf-8/">the WTF-8 encoding</a>.
 */
final class Wtf8 {
    private Wtf8() {}

    /** Appends the bytes (0..255) of {@code s[start, end)} to {@code out}. */
    static void encode(CharSequence s, int start, int end, IntList out) {
        for (int i = start; i < end; i++) {
            char c = s.charAt(i);
            int cp = c;
            if (Character.isHighSurrogate(c) && i + 1 < end && Character.isLowSurrogate(s.charAt(i + 1))) {
                cp = Character.toCodePoint(c, s.charAt(++i));
            }
            if (cp < 0x80) {
                out.add(cp);
            } else if (cp < 0x800) {
                out.add(0xC0 | (cp >>> 6));
                out.add(0x80 | (cp & 0x3F));
            } else if (cp < 0x10000) { // unpaired surrogates land here too, as ED A0..BF xx
                out.add(0xE0 | (cp >>> 12));
                out.add(0x80 | ((cp >>> 6) & 0x3F));
                out.add(0x80 | (cp & 0x3F));
            } else {
                out.add(0xF0 | (cp >>> 18));
                out.add(0x80 | ((cp >>> 12) & 0x3F));
                out.add(0x80 | ((cp >>> 6) & 0x3F));
                out.add(0x80 | (cp & 0x3F));
            }
        }
    }

    /** Appends the text of {@code bytes[0, length)} to {@code out}. */
    static void decode(byte[] bytes, int length, StringBuilder out) {
        int i = 0;
        while (i < length) {
            int b0 = bytes[i] & 0xFF;
            if (b0 < 0x80) {
                out.append((char) b0);
                i++;
                continue;
            }
            int need; // continuation bytes
            int lo = 0x80; // range of the second byte
            int hi = 0xBF;
            int cp;
            if (b0 >= 0xC2 && b0 <= 0xDF) {
                need = 1;
                cp = b0 & 0x1F;
            } else if (b0 >= 0xE0 && b0 <= 0xEF) {
                need = 2;
                cp = b0 & 0x0F;
                lo = b0 == 0xE0 ? 0xA0 : 0x80; // ED A0..BF (surrogates) allowed: WTF-8
            } else if (b0 >= 0xF0 && b0 <= 0xF4) {
                need = 3;
                cp = b0 & 0x07;
                lo = b0 == 0xF0 ? 0x90 : 0x80;
                hi = b0 == 0xF4 ? 0x8F : 0xBF;
            } else {
                out.append('\uFFFD');
                i++;
                continue;
            }
            int j = i + 1;
            boolean ok = true;
            for (int k = 0; k < need; k++, j++) {
                int b = j < length ? bytes[j] & 0xFF : -1;
                boolean inRange = k == 0 ? b >= lo && b <= hi : b >= 0x80 && b <= 0xBF;
                if (!inRange) {
                    ok = false;
                    break;
                }
                cp = (cp << 6) | (b & 0x3F);
            }
            if (!ok) {
                out.append('\uFFFD'); // the lead byte and the valid continuation bytes before the bad one
                i = j;
                continue;
            }
            out.appendCodePoint(cp);
            i = j;
        }
    }
}
