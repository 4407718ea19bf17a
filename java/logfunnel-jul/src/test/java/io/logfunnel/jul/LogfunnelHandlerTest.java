package io.logfunnel.jul;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.logfunnel.testkit.ChildJvm;
import io.logfunnel.testkit.ExcText;
import io.logfunnel.testkit.WithCollector;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The java.util.logging handler, configured from logging.properties, against a real collector. */
class LogfunnelHandlerTest extends WithCollector {
    static LogfunnelHandler handler;

    @BeforeAll
    static void setUp() throws Exception {
        String props = """
                io.logfunnel.jul.LogfunnelHandler.endpoint = %s
                io.logfunnel.jul.LogfunnelHandler.level = ALL
                io.logfunnel.jul.LogfunnelHandler.includeCallerData = true
                io.logfunnel.jul.LogfunnelHandler.closeTimeoutMillis = 10000
                io.logfunnel.jul.LogfunnelHandler.queueCapacity = 10000
                io.logfunnel.jul.LogfunnelHandler.overflow = block
                io.logfunnel.jul.LogfunnelHandler.formatter = java.util.logging.SimpleFormatter
                """.formatted(collector.endpoint());
        LogManager.getLogManager().readConfiguration(new ByteArrayInputStream(props.getBytes(StandardCharsets.UTF_8)));
        handler = new LogfunnelHandler();
    }

    @AfterAll
    static void tearDown() throws Exception {
        handler.close();
        LogManager.getLogManager().readConfiguration();
    }

    private static Logger logger(String name) {
        Logger l = Logger.getLogger(name);
        l.setUseParentHandlers(false);
        l.setLevel(Level.ALL);
        if (l.getHandlers().length == 0) {
            l.addHandler(handler);
        }
        return l;
    }

    @Test
    void levelsMapToPythonNumbers() throws Exception {
        Logger l = logger("jul.levels");
        Level[] levels = {Level.SEVERE, Level.WARNING, Level.INFO, Level.CONFIG, Level.FINE, Level.FINER, Level.FINEST};
        for (Level lv : levels) {
            l.log(lv, lv.getName());
        }
        List<Map<String, Object>> rs = collector.awaitLogger("jul.levels", levels.length);
        long[] expected = {40, 30, 20, 15, 10, 5, 5};
        String[] names = {"ERROR", "WARNING", "INFO", "Level 15", "DEBUG", "Level 5", "Level 5"};
        for (int i = 0; i < levels.length; i++) {
            Map<String, Object> r = rs.get(i);
            assertEquals(levels[i].getName(), r.get("msg"));
            assertEquals(expected[i], r.get("levelno"), levels[i].getName());
            assertEquals(names[i], r.get("levelname"));
            assertEquals("java", r.get("lang"));
        }
    }

    @Test
    void parametersAreMergedByTheFormatterNotItsLayout() throws Exception {
        logger("jul.params").log(Level.INFO, "user {0} has {1} items", new Object[] {"ada", 3});
        Map<String, Object> r = collector.awaitLogger("jul.params", 1).get(0);
        assertEquals("user ada has 3 items", r.get("msg"));
    }

    @Test
    void exceptionsArriveWithCausesAndSuppressed() throws Exception {
        IllegalStateException ex = new IllegalStateException("outer", new IOException("inner"));
        ex.addSuppressed(new RuntimeException("side"));
        logger("jul.exc").log(Level.SEVERE, "failed", ex);
        String text = (String) collector.awaitLogger("jul.exc", 1).get(0).get("exc_text");
        ExcText.assertFullTrace(ex, text);
        assertTrue(text.contains("\nCaused by: java.io.IOException: inner"), text);
        assertTrue(text.contains("at io.logfunnel.jul.LogfunnelHandlerTest.exceptionsArriveWithCausesAndSuppressed"), text);
    }

    @Test
    void callerThreadAndTimeComeFromTheRecord() throws Exception {
        LogRecord lr = new LogRecord(Level.WARNING, "explicit");
        lr.setLoggerName("jul.record");
        lr.setInstant(Instant.parse("2024-06-01T12:00:00.250Z"));
        lr.setSourceClassName("com.example.Service$Worker");
        lr.setSourceMethodName("run");
        logger("jul.record").log(lr);
        logger("jul.caller").info("inferred");
        Map<String, Object> r = collector.awaitLogger("jul.record", 1).get(0);
        assertEquals(1717243200.25, ((Number) r.get("created")).doubleValue(), 1e-6);
        assertEquals("com/example/Service.java", r.get("pathname"));
        assertEquals("Service.java", r.get("filename"));
        assertEquals("Service", r.get("module"));
        assertEquals("run", r.get("funcName"));
        assertEquals(Thread.currentThread().getName(), r.get("threadName"));
        assertEquals(Thread.currentThread().threadId(), r.get("thread"));
        Map<String, Object> c = collector.awaitLogger("jul.caller", 1).get(0);
        assertEquals("io/logfunnel/jul/LogfunnelHandlerTest.java", c.get("pathname"));
        assertEquals("callerThreadAndTimeComeFromTheRecord", c.get("funcName"));
    }

    @Test
    void levelAndFilterComeFromTheProperties() throws Exception {
        String props = """
                io.logfunnel.jul.LogfunnelHandler.endpoint = %s
                io.logfunnel.jul.LogfunnelHandler.level = WARNING
                io.logfunnel.jul.LogfunnelHandler.filter = io.logfunnel.jul.LogfunnelHandlerTest$NoSecrets
                """.formatted(collector.endpoint());
        Logger l = Logger.getLogger("jul.filtered");
        LogfunnelHandler h = JulProperties.attachConfigured(props, l);
        l.info("below the handler's level");
        l.warning("secret: 1234");
        l.warning("kept");
        l.severe("end");
        h.close();
        l.removeHandler(h);
        // One sender keeps its order, so once "end" is there everything before it is too.
        collector.await(r -> "jul.filtered".equals(r.get("name")) && "end".equals(r.get("msg")), 1);
        List<Object> msgs = collector.records().stream().filter(r -> "jul.filtered".equals(r.get("name")))
                .map(r -> r.get("msg")).toList();
        assertEquals(List.of("kept", "end"), msgs);
    }

    /** A JUL filter named in the properties above. */
    public static final class NoSecrets implements java.util.logging.Filter {
        @Override
        public boolean isLoggable(LogRecord record) {
            return !record.getMessage().startsWith("secret");
        }
    }

    @Test
    void levelMappingCoversCustomLevels() {
        assertEquals(40, LogfunnelHandler.levelNumber(Level.parse("1200")));
        assertEquals(30, LogfunnelHandler.levelNumber(Level.parse("950")));
        assertEquals(5, LogfunnelHandler.levelNumber(Level.ALL));
    }

    @Test
    void aJvmConfiguredByLoggingPropertiesLosesNothingAtExit(@TempDir Path tmp) throws Exception {
        Path props = tmp.resolve("logging.properties");
        Files.writeString(props, """
                handlers = io.logfunnel.jul.LogfunnelHandler
                .level = INFO
                io.logfunnel.jul.LogfunnelHandler.endpoint = %s
                io.logfunnel.jul.LogfunnelHandler.closeTimeoutMillis = 20000
                """.formatted(collector.endpoint()));
        ChildJvm.Result r = ChildJvm.run(List.of("-Djava.util.logging.config.file=" + props), LogThenExit.class, "3000");
        assertEquals(0, r.exitCode(), r.output());
        List<Map<String, Object>> rs = collector.awaitLogger("jul.child", 3000);
        assertEquals(3000, rs.size());
        for (int i = 0; i < rs.size(); i++) {
            assertEquals("record " + i, rs.get(i).get("msg"));
            assertEquals((long) i, rs.get(i).get("seq"));
        }
    }

    /** Child main: logs N records through the root handler from logging.properties and returns. */
    public static final class LogThenExit {
        public static void main(String[] args) {
            Logger l = Logger.getLogger("jul.child");
            int n = Integer.parseInt(args[0]);
            for (int i = 0; i < n; i++) {
                l.info("record " + i);
            }
        }
    }
}
