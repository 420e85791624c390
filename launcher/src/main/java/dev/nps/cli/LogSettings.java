package dev.nps.cli;

import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import ch.qos.logback.core.joran.spi.JoranException;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigException;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigParseOptions;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Set;

/**
 * The node config's {@code nps.node.log} block: {@code format = text | json} (JSON lines, one object
 * per event with its MDC: a serving node puts the run id and tenant there) and {@code level}
 * (default WARN). Plain text stays the default, for the CLI and for nodes alike.
 */
record LogSettings(Format format, String level) {
    private static final Set<String> KEYS = dev.nps.spec.ConfigKeys.of("format", "level");
    private static final Set<String> LEVELS = Set.of("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "OFF");

    enum Format { TEXT, JSON }

    LogSettings {
        if (!LEVELS.contains(level)) {
            throw new IllegalArgumentException("nps.node.log.level must be one of " + LEVELS + ", got " + level);
        }
    }

    /** The block of {@code file}, or the defaults (text, WARN); an unknown key or value is refused with one line. */
    static LogSettings load(Path file) {
        try {
            Config c = ConfigFactory.parseFile(file.toFile(), ConfigParseOptions.defaults().setAllowMissing(false)).resolve();
            if (!c.hasPath("nps.node.log")) {
                return new LogSettings(Format.TEXT, "WARN");
            }
            dev.nps.spec.ConfigKeys.unknownKey(c.getObject("nps.node.log"), KEYS, "nps.node.log")
                    .ifPresent(m -> { throw new IllegalArgumentException("node config " + file + ": " + m); });
            Config l = c.getConfig("nps.node.log").withFallback(ConfigFactory.parseString("format = text, level = WARN"));
            Format format = switch (l.getString("format").toLowerCase(Locale.ROOT)) {
                case "text" -> Format.TEXT;
                case "json" -> Format.JSON;
                default -> throw new IllegalArgumentException("node config " + file + ": nps.node.log.format must be text or json, got "
                        + l.getString("format"));
            };
            return new LogSettings(format, l.getString("level").toUpperCase(Locale.ROOT));
        } catch (ConfigException e) {
            throw new IllegalArgumentException("node config " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * Reconfigures logback from the bundled logback.xml (text) or nps-logback-json.xml with this level. Also sets the
     * system property {@code nps.log.format}, which the node's console lines follow
     * ({@code dev.nps.cluster.Console}): in JSON mode they are log events too, so every line is JSON.
     */
    void apply() {
        String name = format.name().toLowerCase(Locale.ROOT);
        System.setProperty("nps.log.format", name);
        System.setProperty("nps.log.level", level);
        LoggerContext context = (LoggerContext) org.slf4j.LoggerFactory.getILoggerFactory();
        context.reset();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        try {
            configurator.doConfigure(LogSettings.class.getResource(format == Format.JSON ? "/nps-logback-json.xml" : "/logback.xml"));
        } catch (JoranException e) {
            throw new IllegalStateException("logging configuration: " + e.getMessage(), e);
        }
    }
}
