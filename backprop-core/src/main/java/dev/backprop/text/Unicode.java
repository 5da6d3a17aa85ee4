package dev.backprop.text;

/** Small Unicode helpers for messages and checks. */
final class Unicode {
    private Unicode() {}

    /** {@code 'é' (U+00E9)}, or just {@code (U+000A)} for an invisible character, for messages. */
    static String describe(int cp) {
        if (Character.isSurrogate((char) cp) && cp <= 0xFFFF) {
            return String.format("an unpaired surrogate (U+%04X)", cp);
        }
        boolean invisible = Character.isISOControl(cp) || Character.isWhitespace(cp) || Character.isSpaceChar(cp);
        String shown = invisible ? "" : "'" + Character.toString(cp) + "' ";
        return shown + String.format("(U+%04X)", cp);
    }

    /** The index of the first unpaired surrogate in {@code s}, or -1 when it is well-formed UTF-16. */
    static int firstUnpairedSurrogate(CharSequence s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                i++;
            } else if (Character.isSurrogate(c)) {
                return i;
            }
        }
        return -1;
    }

    /**
     * Refuses a text with an unpaired surrogate: it is not Unicode text, and could not be saved
     * as UTF-8 JSON.
     *
     * @throws IllegalArgumentException naming the index
     */
    static void requireWellFormed(CharSequence s, String what) {
        int bad = firstUnpairedSurrogate(s);
        if (bad >= 0) {
            throw new IllegalArgumentException(what + " has " + describe(s.charAt(bad)) + " at UTF-16 index " + bad
                    + "; a Java string with half a surrogate pair is not Unicode text");
        }
    }
}
