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

    private static String loadAverage() {
        try {
            String[] f = java.nio.file.Files.readString(java.nio.file.Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException | RuntimeException e) {
            return "unknown";
        }
    }

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
        String loadBefore = loadAverage();
        Collection<RunResult> results = new Runner(o.build()).run();

        // "shape/appender" -> {mean ns, error, B/op, p50, p90, p99}
        Map<String, double[]> byKey = new HashMap<>();
        for (RunResult r : results) {
            String method = r.getParams().getBenchmark();
            String shape = method.substring(method.lastIndexOf('.') + 1);
            String appender = r.getParams().getParam("appender");
            Result<?> primary = r.getPrimaryResult();
            Result<?> alloc = r.getSecondaryResults().get("·gc.alloc.rate.norm");
            if (alloc == null) {
                alloc = r.getSecondaryResults().get("gc.alloc.rate.norm");
            }
            var st = primary.getStatistics();
            byKey.put(shape + "/" + appender, new double[] {primary.getScore(), primary.getScoreError(),
                    alloc == null ? Double.NaN : alloc.getScore(), st.getPercentile(50), st.getPercentile(90),
                    st.getPercentile(99)});
        }
        System.out.println();
        System.out.printf("Logback call cost, %d thread(s), JDK %s, %d CPUs, load average before: %s%n", threads,
                System.getProperty("java.version"), Runtime.getRuntime().availableProcessors(), loadBefore);
        System.out.printf("%-10s %-10s %10s %10s %10s %10s %8s%n", "shape", "appender", "mean ns", "p50 ns", "p90 ns",
                "p99 ns", "B/call");
        for (String shape : List.of("call", "sustained")) {
            for (String a : List.of("file", "async", "logfunnel")) {
                double[] v = byKey.get(shape + "/" + a);
                if (v == null) {
                    continue;
                }
                if (shape.equals("call")) {
                    System.out.printf("%-10s %-10s %10.0f %10.0f %10.0f %10.0f %8.0f%n", shape, a, v[0], v[3], v[4],
                            v[5], v[2]);
                } else {
                    System.out.printf("%-10s %-10s %10.0f %10s %10s %10s %8.0f%n", shape, a, v[0], "-", "-", "-", v[2]);
                }
            }
        }
        System.out.println();
        double[] lf = byKey.get("call/logfunnel");
        double[] file = byKey.get("call/file");
        double[] async = byKey.get("call/async");
        if (lf != null && file != null && async != null) {
            System.out.printf("ratio call median  logfunnel/FileAppender = %.2f   logfunnel/AsyncAppender = %.2f%n",
                    lf[3] / file[3], lf[3] / async[3]);
            System.out.printf("ratio call mean    logfunnel/FileAppender = %.2f   logfunnel/AsyncAppender = %.2f%n",
                    lf[0] / file[0], lf[0] / async[0]);
        }
        lf = byKey.get("sustained/logfunnel");
        file = byKey.get("sustained/file");
        async = byKey.get("sustained/async");
        if (lf != null && file != null && async != null) {
            System.out.printf("ratio sustained    logfunnel/FileAppender = %.2f   logfunnel/AsyncAppender = %.2f%n",
                    lf[0] / file[0], lf[0] / async[0]);
        }
    }
}
