package io.logfunnel.bench;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.openjdk.jmh.profile.GCProfiler;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs {@link AppenderBench} and prints ns per call, bytes allocated per call, and the ratios of the
 * logfunnel appender to Logback's FileAppender and AsyncAppender.
 *
 * <p>Arguments: {@code --quick} (1 short iteration each, to check the set-up), {@code --threads N}.
 */
public final class Main {
    private Main() {}

    public static void main(String[] args) throws Exception {
        boolean quick = false;
        int threads = 1;
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--quick" -> quick = true;
                case "--threads" -> threads = Integer.parseInt(args[++i]);
                default -> throw new IllegalArgumentException("unknown argument " + args[i]);
            }
        }
        List<String> jvm = new ArrayList<>(List.of("--enable-native-access=ALL-UNNAMED", "-Xms1g", "-Xmx1g"));
        for (String p : List.of("logfunnel.library.path", "logfunnel.bench.collector")) {
            if (System.getProperty(p) != null) {
                jvm.add("-D" + p + "=" + System.getProperty(p));
            }
        }
        ChainedOptionsBuilder o = new OptionsBuilder()
                .include(AppenderBench.class.getName())
                .forks(1)
                .threads(threads)
                .jvmArgsAppend(jvm.toArray(String[]::new))
                .addProfiler(GCProfiler.class);
        if (quick) {
            o.warmupIterations(1).warmupTime(TimeValue.seconds(1)).measurementIterations(1)
                    .measurementTime(TimeValue.seconds(1));
        } else {
            o.warmupIterations(3).warmupTime(TimeValue.seconds(2)).measurementIterations(5)
                    .measurementTime(TimeValue.seconds(2));
        }
        Collection<RunResult> results = new Runner(o.build()).run();

        Map<String, double[]> byKey = new HashMap<>(); // "shape/appender" -> {ns/op, error, B/op}
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark();
            String shape = method.substring(method.lastIndexOf('.') + 1);
            String appender = r.getParams().getParam("appender");
            Result<?> primary = r.getPrimaryResult();
            Result<?> alloc = r.getSecondaryResults().get("·gc.alloc.rate.norm");
            if (alloc == null) {
                alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
            }
            byKey.put(shape + "/" + appender, new double[] {primary.getScore(), primary.getScoreError(),
                    alloc == null ? Double.NaN : alloc.getScore()});
        }
        System.out.println();
        System.out.printf("Logback call cost, %d thread(s), JDK %s, %d CPUs%n", threads,
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors());
        System.out.printf("%-10s %-10s %14s %12s%n", "shape", "appender", "ns/call", "B/call");
        for (String shape : List.of("burst", "sustained")) {
            for (String a : List.of("file", "async", "logfunnel")) {
                double[] v = byKey.get(shape + "/" + a);
                if (v != null) {
                    System.out.printf("%-10s %-10s %8.0f ± %-4.0f %12.0f%n", shape, a, v[0], v[1], v[2]);
                }
            }
        }
        System.out.println();
        for (String shape : List.of("burst", "sustained")) {
            double[] lf = byKey.get(shape + "/logfunnel");
            double[] file = byKey.get(shape + "/file");
            double[] async = byKey.get(shape + "/async");
            if (lf != null && file != null && async != null) {
                System.out.printf("ratio %-9s logfunnel/FileAppender = %.2f   logfunnel/AsyncAppender = %.2f%n",
                        shape, lf[0] / file[0], lf[0] / async[0]);
            }
        }
    }
}
