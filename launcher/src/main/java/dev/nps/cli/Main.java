package dev.nps.cli;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code nps} command line. Bad input ends with one line on stderr and a non-zero exit. */
@Command(name = "nps", mixinStandardHelpOptions = true, version = "nps 0.1.0",
        description = "Neural Parameter Search: prune, merge and compress task vectors, scored with ONNX Runtime.",
        subcommands = {InspectCommand.class, EvalCommand.class, MergeCommand.class, PruneCommand.class, TransferCommand.class,
                CompressCommand.class, DecompressCommand.class, ServeCommand.class, RunControlCommands.Submit.class,
                RunControlCommands.Status.class, RunControlCommands.Cancel.class, RunControlCommands.Results.class, RunControlCommands.Watch.class,
                RunControlCommands.Upload.class,
                TenantCommand.class})
public final class Main {

    /** Exit code for input the user must fix (bad flags, bad files, bad spec). */
    static final int EXIT_BAD_INPUT = 2;
    /** Exit code for a failure while running (I/O, inference). */
    static final int EXIT_FAILURE = 1;

    public static void main(String[] args) {
        // SLF4J initialized here, on one thread: when the first actor systems log concurrently during
        // its lazy initialization, it prints "replayed" warnings even with -q.
        org.slf4j.LoggerFactory.getILoggerFactory();
        System.exit(run(args));
    }

    /** Runs the CLI and returns its exit code (tests call this instead of main). */
    public static int run(String... args) {
        return run(new PrintWriter(System.err, true), args);
    }

    /** As {@link #run(String...)}, with error lines going to {@code err}. */
    public static int run(PrintWriter err, String... args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setErr(err);
        cli.setExpandAtFiles(ServedCommands.current() == null); // a served run's @FILE would read a file of the node
        cli.setParameterExceptionHandler((ex, a) -> {
            err.println("nps: " + ex.getMessage());
            err.flush();
            return EXIT_BAD_INPUT;
        });
        cli.setExecutionExceptionHandler((ex, commandLine, parseResult) -> {
            err.println("nps: " + Errors.oneLine(ex));
            if (System.getenv("NPS_DEBUG") != null) {
                ex.printStackTrace(err);
            }
            err.flush();
            return Errors.isBadInput(ex) ? EXIT_BAD_INPUT : EXIT_FAILURE;
        });
        // A failed run leaves no empty output directory behind (OutputDirectory removes the ones it created).
        return dev.nps.result.OutputDirectory.removingCreatedIfEmpty(() -> {
            try {
                return cli.execute(args);
            } catch (Error e) {
                // picocli passes Errors through: an OutOfMemoryError on the main thread still ends in one line.
                err.println("nps: " + Errors.oneLine(e));
                if (System.getenv("NPS_DEBUG") != null) {
                    e.printStackTrace(err);
                }
                err.flush();
                return EXIT_FAILURE;
            }
        });
    }
}
