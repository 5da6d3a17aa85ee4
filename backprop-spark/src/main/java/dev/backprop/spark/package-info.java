/**
 * Data-parallel training of backprop models on Apache Spark: {@link dev.backprop.spark.SparkTrainer}
 * (synchronous gradient aggregation or local SGD with periodic averaging), the data as RDDs of
 * {@link dev.backprop.spark.ExampleBlock}s ({@link dev.backprop.spark.SparkData}), the shard plan
 * that makes a Spark run equal to a single-process one ({@link dev.backprop.spark.ShardPlan}), and
 * a loopback-only context for local masters ({@link dev.backprop.spark.SparkContexts}). See
 * {@code docs/spark.md}.
 */
package dev.backprop.spark;
