package dev.backprop.spark;

import org.apache.spark.api.java.JavaSparkContext;

/**
 * The one Spark context the tests share ({@code local[2,4]}: two task slots, a failed task is
 * tried up to 4 times), started on first use and stopped when the test JVM exits. Loopback only,
 * no web UI.
 */
final class LocalSpark {
    private static JavaSparkContext sc;
    private static boolean hooked;

    private LocalSpark() {}

    static synchronized JavaSparkContext get() {
        if (sc == null) {
            sc = SparkContexts.create("local[2,4]", "backprop-tests");
            if (!hooked) {
                Runtime.getRuntime().addShutdownHook(new Thread(LocalSpark::stop));
                hooked = true;
            }
        }
        return sc;
    }

    /** Stops the shared context (a JVM runs one at a time); the next {@link #get()} starts a new one. */
    static synchronized void stop() {
        if (sc != null) {
            sc.stop();
            sc = null;
        }
    }
}
