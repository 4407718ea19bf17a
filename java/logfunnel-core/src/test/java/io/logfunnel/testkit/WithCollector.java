package io.logfunnel.testkit;

import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/**
 * Base of the test classes that share one real collector process per class. JUnit runs this
 * {@code @BeforeAll} before the subclass's own and this {@code @AfterAll} after the subclass's, so the
 * collector is there for the whole class, its setup and teardown included.
 */
public abstract class WithCollector {
    /** The collector's working directory (its output file). */
    @TempDir
    protected static Path dir;
    /** The collector of the running test class. */
    protected static Collector collector;

    @BeforeAll
    static void startCollector() throws Exception {
        collector = Collector.start(dir);
    }

    @AfterAll
    static void stopCollector() throws Exception {
        collector.close();
    }
}
