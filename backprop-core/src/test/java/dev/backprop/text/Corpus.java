package dev.backprop.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** Generated English-like text for tokenizer tests: words drawn from a Zipf-like distribution. */
final class Corpus {
    private static final String[] WORDS = ("the of and to a in is it you that he was for on are with as I his they be"
            + " at one have this from or had by hot word but what some we can out other were all there when up use"
            + " your how said an each she which do their time if will way about many then them write would like so"
            + " these her long make thing see him two has look more day could go come did number sound no most"
            + " people my over know water than call first who may down side been now find any new work part take"
            + " get place made live where after back little only round man year came show every good me give our"
            + " under name very through just form sentence great think say help low line differ turn cause much mean"
            + " before move right boy old too same tell does set three want air well also play small end put home"
            + " read hand port large spell add even land here must big high such follow act why ask men change went"
            + " light kind off need house picture try us again animal point mother world near build self earth father"
            + " Stra\u00dfe caf\u00e9 na\u00efve \u00fcber M\u00e4dchen").split(" ");

    private Corpus() {}

    /** About {@code chars} characters of sentences, one per line. */
    static String english(int chars, long seed) {
        Random rnd = new Random(seed);
        StringBuilder sb = new StringBuilder(chars + 100);
        while (sb.length() < chars) {
            sb.append(sentence(rnd)).append('\n');
        }
        return sb.toString();
    }

    /** {@code n} sentences. */
    static List<String> lines(int n, long seed) {
        Random rnd = new Random(seed);
        List<String> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            out.add(sentence(rnd));
        }
        return out;
    }

    private static String sentence(Random rnd) {
        int n = 4 + rnd.nextInt(12);
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < n; i++) {
            // Zipf-like: small indices far more often
            int k = (int) Math.floor(Math.pow(WORDS.length, rnd.nextDouble())) - 1;
            String w = WORDS[k];
            if (i == 0) {
                w = Character.toUpperCase(w.charAt(0)) + w.substring(1);
            }
            sb.append(i == 0 ? "" : " ").append(w);
            if (rnd.nextInt(12) == 0) {
                sb.append(',');
            }
            if (rnd.nextInt(25) == 0) {
                sb.append(' ').append(rnd.nextInt(2000));
            }
        }
        return sb.append(rnd.nextInt(6) == 0 ? "?" : ".").toString();
    }
}
