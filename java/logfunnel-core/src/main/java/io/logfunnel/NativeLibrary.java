package io.logfunnel;

import java.io.IOException;
import java.io.InputStream;
import java.lang.foreign.Arena;
import java.lang.foreign.SymbolLookup;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Finds and loads the native library ({@code liblogfunnel.so}) that implements {@code include/logfunnel.h}.
 *
 * <p>Places, in this order; the first one that is set decides:
 * <ol>
 *   <li>the system property {@value #PROPERTY}: a library file, or a directory holding one;</li>
 *   <li>the environment variable {@value #ENV}: the same;</li>
 *   <li>a copy packaged in the jar at {@code /native/<os>-<arch>/liblogfunnel.so}, extracted to a
 *       temporary file that is deleted again once loaded (where the OS allows it).</li>
 * </ol>
 * A property or variable that is set but names no loadable library is an error: the binding never falls
 * back silently to a library other than the one asked for. The error message lists every place and
 * how to fix it.
 */
public final class NativeLibrary {
    /** System property naming the library file (or its directory). */
    public static final String PROPERTY = "logfunnel.library.path";
    /** Environment variable naming the library file (or its directory). */
    public static final String ENV = "LOGFUNNEL_LIBRARY";

    /** Every function the binding calls; all are checked at load so a mismatch fails early and clearly. */
    static final List<String> REQUIRED = List.of(
            "lf_options_new", "lf_options_free", "lf_options_set_endpoint", "lf_options_set_mode",
            "lf_options_set_queue_capacity", "lf_options_set_queue_max_bytes", "lf_options_set_overflow",
            "lf_options_set_block_timeout_ms", "lf_options_set_max_frame_bytes", "lf_options_set_min_level",
            "lf_options_set_sndhwm", "lf_options_set_close_timeout_ms", "lf_options_set_lang",
            "lf_options_set_host", "lf_options_set_default_logger", "lf_sender_new", "lf_sender_free",
            "lf_log_record", "lf_flush", "lf_close", "lf_get_stats", "lf_result_message", "lf_last_error",
            "lf_version");

    private static SymbolLookup lookup;
    private static String source;
    private static LogfunnelException failure;

    private NativeLibrary() {}

    /**
     * The loaded library's symbols, loading it on first use. Every later call after a failure throws an
     * exception with the same message.
     *
     * @throws LogfunnelException when no library can be found or loaded
     */
    public static synchronized SymbolLookup lookup() {
        if (lookup == null) {
            if (failure != null) {
                throw new LogfunnelException(failure.getMessage(), failure);
            }
            try {
                if (java.lang.foreign.ValueLayout.ADDRESS.byteSize() != 8) {
                    throw new LogfunnelException("logfunnel: the Java binding supports 64-bit platforms only");
                }
                Loaded l = load(System.getProperty(PROPERTY), System.getenv(ENV),
                        NativeLibrary.class::getResource);
                for (String name : REQUIRED) {
                    if (l.lookup().find(name).isEmpty()) {
                        throw new LogfunnelException("logfunnel: the native library at " + l.source()
                                + " has no function " + name + ": it is older or newer than this binding "
                                + "(build both from the same logfunnel checkout)");
                    }
                }
                lookup = l.lookup();
                source = l.source();
            } catch (LogfunnelException e) {
                failure = e;
                throw e;
            }
        }
        return lookup;
    }

    /** Where the loaded library came from (a path, or the jar resource and its temporary copy). */
    public static synchronized String source() {
        lookup();
        return source;
    }

    /** The platform folder inside the jar, e.g. {@code linux-x86_64}. */
    public static String platform() {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        String osPart = os.startsWith("linux") ? "linux"
                : os.startsWith("mac") ? "macos"
                : os.startsWith("windows") ? "windows"
                : os.replaceAll("[^a-z0-9]", "");
        String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        String archPart = switch (arch) {
            case "amd64", "x86_64", "x64" -> "x86_64";
            case "aarch64", "arm64" -> "aarch64";
            default -> arch;
        };
        return osPart + "-" + archPart;
    }

    /** The jar resource that holds this platform's library. */
    public static String resourceName() {
        return "/native/" + platform() + "/" + System.mapLibraryName("logfunnel");
    }

    /** A loaded library and a description of where it came from. */
    record Loaded(SymbolLookup lookup, String source) {}

    /**
     * Resolves and loads the library from the given inputs (the property's value, the variable's value,
     * and a resource finder), so tests can try every branch without touching the JVM's real settings.
     */
    static Loaded load(String property, String env, Function<String, URL> resources) {
        List<String> report = new ArrayList<>();
        if (isSet(property)) {
            report.add("1. system property " + PROPERTY + "=" + property + ": ");
            report.add("2. environment variable " + ENV + ": not consulted (the system property is set)");
            report.add("3. jar resource " + resourceName() + ": not consulted (the system property is set)");
            return loadFile(property, report, 0);
        }
        report.add("1. system property " + PROPERTY + ": not set");
        if (isSet(env)) {
            report.add("2. environment variable " + ENV + "=" + env + ": ");
            report.add("3. jar resource " + resourceName() + ": not consulted (the variable is set)");
            return loadFile(env, report, 1);
        }
        report.add("2. environment variable " + ENV + ": not set");
        String resource = resourceName();
        URL url = resources.apply(resource);
        if (url == null) {
            report.add("3. jar resource " + resource + ": not packaged in this jar (wrong platform, or the jar "
                    + "was built before the native library)");
            throw notFound(report);
        }
        Path tmp;
        try {
            tmp = extract(url);
        } catch (IOException e) {
            report.add("3. jar resource " + resource + ": found at " + url + " but could not be extracted to a "
                    + "temporary file: " + e);
            throw notFound(report);
        }
        try {
            SymbolLookup l = SymbolLookup.libraryLookup(tmp, Arena.global());
            return new Loaded(l, url + " (extracted to " + tmp + ")");
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            report.add("3. jar resource " + resource + ": extracted to " + tmp + " but could not be loaded: "
                    + e.getMessage());
            throw notFound(report);
        } finally {
            // Once mapped the file is no longer needed (Linux, macOS); elsewhere remove it at exit.
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                tmp.toFile().deleteOnExit();
            }
        }
    }

    private static boolean isSet(String s) {
        return s != null && !s.isBlank();
    }

    private static Loaded loadFile(String value, List<String> report, int index) {
        Path p = Path.of(value.trim());
        if (Files.isDirectory(p)) {
            p = p.resolve(System.mapLibraryName("logfunnel"));
        }
        if (!Files.isRegularFile(p)) {
            report.set(index, report.get(index) + "no such file: " + p.toAbsolutePath());
            throw notFound(report);
        }
        try {
            return new Loaded(SymbolLookup.libraryLookup(p, Arena.global()), p.toAbsolutePath().toString());
        } catch (IllegalArgumentException | UnsatisfiedLinkError e) {
            report.set(index, report.get(index) + "the file exists but could not be loaded: "
                    + e.getMessage());
            throw notFound(report);
        }
    }

    private static Path extract(URL url) throws IOException {
        Path tmp = Files.createTempFile("logfunnel-", "-" + System.mapLibraryName("logfunnel"));
        try (InputStream in = url.openStream()) {
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            Files.deleteIfExists(tmp);
            throw e;
        }
        return tmp;
    }

    private static LogfunnelException notFound(List<String> report) {
        String lib = System.mapLibraryName("logfunnel");
        StringBuilder b = new StringBuilder();
        b.append("logfunnel: the native library ").append(lib).append(" could not be loaded. Looked in:\n");
        for (String line : report) {
            b.append("  ").append(line).append('\n');
        }
        b.append("How to fix: build it from the logfunnel repository with `cargo build --release -p logfunnel-ffi`")
                .append(" (it appears as target/release/").append(lib).append("), then either\n")
                .append("  - start java with -D").append(PROPERTY).append("=/path/to/").append(lib).append(", or\n")
                .append("  - export ").append(ENV).append("=/path/to/").append(lib).append(", or\n")
                .append("  - use a logfunnel-jul jar that packages it at ").append(resourceName())
                .append(" (java/run-tests.sh builds one for this platform).");
        return new LogfunnelException(b.toString());
    }
}
