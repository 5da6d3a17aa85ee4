package dev.backprop.spark;

import org.apache.spark.api.java.JavaSparkContext;

/**
 * The one Spark context the tests share ({@code local[2,4]}: two task slots, a failed task is
 * tried up to 4 times), started on first use and stopped when the test JVM exits. Loopback only,
 * no web UI.
 */
final class LocalSpark {
    private static JavaSparkContext sc;

    private LocalSpark() {}

    static synchronized JavaSparkContext get() {
        if (sc == null) {
            sc = SparkContexts.create("local[2,4]", "backprop-tests");
            Runtime.getRuntime().addShutdownHook(new Thread(() -> sc.stop()));
        }
        return sc;
    }
}
