package io.logfunnel.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs a main class in a fresh JVM with the test classpath, for shutdown and library-loading tests. */
public final class ChildJvm {
    private ChildJvm() {}

    /** Exit code and combined stdout/stderr of a finished child. */
    public record Result(int exitCode, String output) {}

    /** The test classpath (Surefire's real one, not its manifest-only booter jar). */
    public static String classpath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }

    /**
     * Runs {@code mainClass} with {@code jvmArgs} (system properties and the like) and {@code args}; waits at
     * most 60 s.
     */
    public static Result run(List<String> jvmArgs, Class<?> mainClass, String... args)
            throws IOException, InterruptedException {
        return run(List.of(), jvmArgs, mainClass, args);
    }

    /** {@link #run(List, Class, String...)} with the JVM started through {@code launcher} (e.g. {@code ip netns exec NAME}). */
    public static Result run(List<String> launcher, List<String> jvmArgs, Class<?> mainClass, String... args)
            throws IOException, InterruptedException {
        Path java = Path.of(System.getProperty("java.home"), "bin", "java");
        List<String> cmd = new ArrayList<>(launcher);
        cmd.add(java.toString());
        cmd.add("--enable-native-access=ALL-UNNAMED");
        cmd.addAll(jvmArgs);
        cmd.add("-cp");
        cmd.add(classpath());
        cmd.add(mainClass.getName());
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        pb.environment().remove("LOGFUNNEL_LIBRARY");
        Process p = pb.start();
        byte[] out = p.getInputStream().readAllBytes();
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("child JVM did not exit within 60 s: " + new String(out, StandardCharsets.UTF_8));
        }
        return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
    }
}
