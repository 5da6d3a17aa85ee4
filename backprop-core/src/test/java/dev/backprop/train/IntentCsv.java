package dev.backprop.train;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;

/** A small generated intent data set in Banking77's format ({@code text,category}), learnable in seconds. */
final class IntentCsv {
    private IntentCsv() {}

    static final List<String> INTENTS = List.of("card_arrival", "lost_or_stolen_card", "top_up_failed",
            "exchange_rate");

    private static final List<List<String>> TEMPLATES = List.of(
            List.of("where is my new card", "my card has not arrived yet", "when will my card be delivered",
                    "how long does the card take to arrive", "I am still waiting for my card"),
            List.of("I lost my card", "my card was stolen", "someone stole my wallet with the card",
                    "I can't find my card anywhere", "please block my lost card"),
            List.of("my top up failed", "the top-up did not go through", "why was my top up declined",
                    "I tried to top up but it failed", "top up is not working"),
            List.of("what is the exchange rate", "how much is the euro to dollar rate", "which rate do you use to "
                    + "exchange money", "is the exchange rate fair", "tell me today's exchange rate"));
    private static final List<String> OPENINGS = List.of("", "Hi, ", "Hello! ", "Please help: ", "Hey, ", "Urgent: ");
    private static final List<String> ENDINGS = List.of("", "?", ".", " thanks", " !!", " please");

    /** Writes {@code perIntent} rows of each intent, shuffled by {@code seed}, and returns the file. */
    static Path write(Path file, int perIntent, long seed) throws IOException {
        Random r = new Random(seed);
        StringBuilder sb = new StringBuilder("text,category\n");
        for (int i = 0; i < perIntent * INTENTS.size(); i++) {
            int c = r.nextInt(INTENTS.size());
            List<String> t = TEMPLATES.get(c);
            String text = OPENINGS.get(r.nextInt(OPENINGS.size())) + t.get(r.nextInt(t.size()))
                    + ENDINGS.get(r.nextInt(ENDINGS.size()));
            sb.append('"').append(text.replace("\"", "\"\"")).append("\",").append(INTENTS.get(c)).append('\n');
        }
        return Files.writeString(file, sb.toString(), StandardCharsets.UTF_8);
    }
}
