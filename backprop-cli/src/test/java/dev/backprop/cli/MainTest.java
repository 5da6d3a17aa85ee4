package dev.backprop.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class MainTest {

    private static String capture(int expectedExit, String... args) {
        PrintStream old = System.out;
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        System.setOut(new PrintStream(buf, true, StandardCharsets.UTF_8));
        try {
            assertEquals(expectedExit, Main.run(args));
        } finally {
            System.setOut(old);
        }
        return buf.toString(StandardCharsets.UTF_8);
    }

    @Test
    void versionNamesTheLibraryAndTheJvm() {
        String out = capture(0, "--version");
        assertTrue(out.startsWith("backprop 0."), out);
        assertTrue(out.contains("Java 25"), out);
    }

    @Test
    void gradcheckPrintsATableAndPassesForEveryOp() {
        String out = capture(0, "gradcheck");
        assertTrue(out.contains("matmul batched") && out.contains("cross_entropy"), out);
        assertTrue(out.contains("-- layers") && out.contains("-- recurrent") && out.contains("-- attention"), out);
        assertTrue(out.matches("(?s).*\\d+ checked: (\\d+) passed, 0 failed.*"), out);
    }

    @Test
    void gradcheckFilter() {
        String out = capture(0, "gradcheck", "--filter", "softmax");
        assertTrue(out.contains("3 checked: 3 passed"), out);
    }
}
