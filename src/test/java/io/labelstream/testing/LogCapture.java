package io.labelstream.testing;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

/**
 * What labelstream's own loggers ({@code io.labelstream}, INFO and up) write while a body runs. The console
 * appender holds the System.out of its start, so {@link ConsoleCapture} does not see log lines; this does.
 */
public final class LogCapture {

    /** @param lines "logger-name message", in the order logged */
    public record Logged<T>(T result, List<String> lines) {
    }

    private LogCapture() {
    }

    public static synchronized <T> Logged<T> run(Supplier<T> body) {
        List<String> lines = new CopyOnWriteArrayList<>();
        AbstractAppender appender = new AbstractAppender("log-capture", null, null, true, Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent event) {
                lines.add(event.getLoggerName() + " " + event.getMessage().getFormattedMessage());
            }
        };
        appender.start();
        LoggerContext context = (LoggerContext) LogManager.getContext(false);
        LoggerConfig logger = context.getConfiguration().getLoggerConfig("io.labelstream");
        logger.addAppender(appender, Level.INFO, null);
        context.updateLoggers();
        try {
            return new Logged<>(body.get(), List.copyOf(lines));
        } finally {
            logger.removeAppender(appender.getName());
            context.updateLoggers();
            appender.stop();
        }
    }
}
