package dev.backprop.text;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The shared data sets outside the repository (../shared/data next to the checkout); a test that
 * needs one is skipped, with a message saying where it looked, when it is absent. The data is
 * never copied into the project.
 */
final class SharedData {
    private SharedData() {}

    /** The path of a shared data file; skips the calling test when it is missing. */
    static Path file(String name) {
        for (String dir : new String[] {"../../shared/data", "../shared/data"}) { // from backprop-core or the root
            Path p = Path.of(dir, name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        assumeTrue(false, "skipped: " + name + " is not in ../../shared/data or ../shared/data (the shared data"
                + " sets next to the checkout)");
        throw new AssertionError("unreachable");
    }
}
