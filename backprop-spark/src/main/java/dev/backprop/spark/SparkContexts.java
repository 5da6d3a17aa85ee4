package dev.backprop.spark;

import org.apache.spark.SparkConf;
import org.apache.spark.api.java.JavaSparkContext;

/**
 * A {@link JavaSparkContext} set up for backprop: the executors' JVMs get the options backprop
 * needs (the Vector API module, native and {@code sun.misc.Unsafe} access for Spark on JDK 25);
 * for {@code local} and {@code local-cluster} masters everything binds to 127.0.0.1 and the web
 * UI is off, so nothing listens beyond the machine.
 */
public final class SparkContexts {
    private SparkContexts() {}

    /** JVM options every executor needs (Spark adds its own {@code --add-opens} list to them). */
    public static final String EXECUTOR_JAVA_OPTIONS = "--add-modules jdk.incubator.vector "
            + "--enable-native-access=ALL-UNNAMED --sun-misc-unsafe-memory-access=allow";

    /** A configuration for {@code master} (for example {@code local[2]}, {@code spark://host:7077}). */
    public static SparkConf conf(String master, String appName) {
        SparkConf conf = new SparkConf().setMaster(master).setAppName(appName)
                .set("spark.ui.enabled", "false")
                .set("spark.ui.showConsoleProgress", "false")
                .set("spark.executor.extraJavaOptions", EXECUTOR_JAVA_OPTIONS)
                // gradients and models of a few MB come back with the task's status message instead of
                // through a second fetch from the executor's block manager (the default limit is 1 MiB)
                .set("spark.task.maxDirectResultSize", "100m");
        if (isLocal(master)) {
            conf.set("spark.driver.host", "127.0.0.1").set("spark.driver.bindAddress", "127.0.0.1")
                    .setExecutorEnv("SPARK_LOCAL_IP", "127.0.0.1");
        }
        if (master.startsWith("local-cluster[")) { // executor JVMs on this machine: the same JDK as the driver
            conf.setExecutorEnv("JAVA_HOME", System.getProperty("java.home"));
        }
        return conf;
    }

    /** A new context for {@code master}; close it when done. */
    public static JavaSparkContext create(String master, String appName) {
        checkJvm();
        JavaSparkContext sc = new JavaSparkContext(conf(master, appName));
        sc.setLogLevel("WARN");
        return sc;
    }

    /** Whether the master runs on this machine only ({@code local}, {@code local[N]}, {@code local-cluster[...]}). */
    public static boolean isLocal(String master) {
        return master.equals("local") || master.startsWith("local[") || master.startsWith("local-cluster[");
    }

    /**
     * Fails with what to do when the JVM lacks the options Spark needs on JDK 17+ (Spark itself
     * would fail later with an obscure {@code IllegalAccessError}).
     */
    static void checkJvm() {
        Module base = Object.class.getModule();
        if (!base.isOpen("sun.nio.ch", SparkContexts.class.getModule())) {
            throw new IllegalStateException("Spark needs the JVM options of its launcher (--add-opens for java.base, "
                    + "see backprop-spark/pom.xml property spark.jvm.flags); run through ./backprop or spark-submit, or "
                    + "add them to the java command line");
        }
    }
}
