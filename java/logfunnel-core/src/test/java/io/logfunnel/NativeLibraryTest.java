package io.logfunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.testkit.ChildJvm;
import io.logfunnel.testkit.Collector;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Finding the native library: each place, in order, and the error when none works. */
class NativeLibraryTest {
    private static final String LIB = System.mapLibraryName("logfunnel");

    /** The library cargo built (the same file the pom packages into the jar). */
    static Path builtLibrary() {
        String dir = System.getProperty("logfunnel.test.native.dir");
        Path p = (dir != null ? Path.of(dir) : Collector.repo().resolve("target/debug")).resolve(LIB)
                .toAbsolutePath().normalize();
        assertTrue(Files.isRegularFile(p), "cargo build -p logfunnel-ffi first: " + p);
        return p;
    }

    @Test
    void nothingFoundListsEveryPlaceAndHowToFix() {
        LogfunnelException e = assertThrows(LogfunnelException.class,
                () -> NativeLibrary.load(null, null, name -> null));
        String m = e.getMessage();
        assertTrue(m.contains("1. system property logfunnel.library.path: not set"), m);
        assertTrue(m.contains("2. environment variable LOGFUNNEL_LIBRARY: not set"), m);
        assertTrue(m.contains("3. jar resource /native/" + NativeLibrary.platform() + "/" + LIB
                + ": not packaged"), m);
        assertTrue(m.contains("How to fix"), m);
        assertTrue(m.contains("-Dlogfunnel.library.path="), m);
        assertTrue(m.contains("cargo build --release -p logfunnel-ffi"), m);
    }

    @Test
    void aBogusPropertyIsAnErrorEvenWhenTheJarHasALibrary() {
        LogfunnelException e = assertThrows(LogfunnelException.class,
                () -> NativeLibrary.load("/nonexistent/dir/" + LIB, builtLibrary().toString(),
                        NativeLibrary.class::getResource));
        String m = e.getMessage();
        assertTrue(m.contains("logfunnel.library.path=/nonexistent/dir/" + LIB + ": no such file"), m);
        assertTrue(m.contains("LOGFUNNEL_LIBRARY: not consulted"), m);
    }

    @Test
    void aBogusVariableIsAnError() {
        LogfunnelException e = assertThrows(LogfunnelException.class,
                () -> NativeLibrary.load(null, "/nonexistent/" + LIB, NativeLibrary.class::getResource));
        assertTrue(e.getMessage().contains("LOGFUNNEL_LIBRARY=/nonexistent/" + LIB + ": no such file"),
                e.getMessage());
    }

    @Test
    void aFileThatIsNotALibraryIsReportedWithTheLoadersReason(@TempDir Path dir) throws Exception {
        // An executable, not a shared library (an ELF file, so the JVM has no stack-guard warning to print).
        Path fake = Files.copy(Path.of(System.getProperty("java.home"), "bin", "java"), dir.resolve(LIB));
        LogfunnelException e = assertThrows(LogfunnelException.class,
                () -> NativeLibrary.load(fake.toString(), null, name -> null));
        assertTrue(e.getMessage().contains("the file exists but could not be loaded"), e.getMessage());
    }

    @Test
    void thePropertyMayNameTheFileOrItsDirectory() {
        Path lib = builtLibrary();
        NativeLibrary.Loaded byFile = NativeLibrary.load(lib.toString(), null, name -> null);
        assertEquals(lib.toAbsolutePath().toString(), byFile.source());
        NativeLibrary.Loaded byDir = NativeLibrary.load(lib.getParent().toString(), null, name -> null);
        assertEquals(lib.toAbsolutePath().toString(), byDir.source());
        assertTrue(byDir.lookup().find("lf_log_record").isPresent());
    }

    @Test
    void theVariableIsUsedWhenThePropertyIsNotSet() {
        Path lib = builtLibrary();
        NativeLibrary.Loaded l = NativeLibrary.load(null, lib.toString(), name -> null);
        assertEquals(lib.toAbsolutePath().toString(), l.source());
    }

    @Test
    void theJarCopyIsExtractedLoadedAndItsTemporaryFileRemoved() {
        assertNotNull(NativeLibrary.class.getResource(NativeLibrary.resourceName()),
                "the build packages the library at " + NativeLibrary.resourceName());
        NativeLibrary.Loaded l = NativeLibrary.load(null, null, NativeLibrary.class::getResource);
        assertTrue(l.source().contains("extracted to "), l.source());
        assertTrue(l.lookup().find("lf_version").isPresent());
        String tmp = l.source().substring(l.source().indexOf("extracted to ") + "extracted to ".length(),
                l.source().length() - 1);
        assertTrue(!Files.exists(Path.of(tmp)), "temporary copy should be gone: " + tmp);
    }

    @Test
    void aJvmWithABogusPathGetsTheDocumentedErrorFromOpen() throws Exception {
        ChildJvm.Result r = ChildJvm.run(List.of("-Dlogfunnel.library.path=/bogus/" + LIB), OpenAndReport.class);
        assertEquals(3, r.exitCode(), r.output());
        assertTrue(r.output().contains("LogfunnelException: logfunnel: the native library " + LIB
                + " could not be loaded"), r.output());
        assertTrue(r.output().contains("logfunnel.library.path=/bogus/" + LIB + ": no such file"), r.output());
        assertTrue(r.output().contains("How to fix"), r.output());
    }

    @Test
    void versionMatchesTheCargoWorkspace() throws Exception {
        String cargo = Files.readString(Collector.repo().resolve("Cargo.toml"));
        String pkg = cargo.substring(cargo.indexOf("[workspace.package]"));
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("(?m)^version\\s*=\\s*\"([^\"]+)\"").matcher(pkg);
        assertTrue(m.find(), "no version in Cargo.toml");
        assertEquals(m.group(1), LogfunnelSender.nativeVersion());
    }

    /** Child main: opens a sender and prints what went wrong. */
    public static final class OpenAndReport {
        public static void main(String[] args) {
            try {
                LogfunnelSender.open(new SenderOptions().endpoint("tcp://127.0.0.1:9")).close();
                System.out.println("opened");
            } catch (LogfunnelException e) {
                System.out.println(e);
                // A second attempt reports the same, it does not turn into NoClassDefFoundError.
                try {
                    LogfunnelSender.open(new SenderOptions().endpoint("tcp://127.0.0.1:9"));
                } catch (LogfunnelException again) {
                    if (again.getMessage().equals(e.getMessage())) {
                        System.exit(3);
                    }
                }
                System.exit(4);
            }
        }
    }
}
