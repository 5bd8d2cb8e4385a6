package io.labelstream.cli;

/** Lets tests in other packages run a command line in-process and get its exit code. */
public final class CliTestAccess {

    private CliTestAccess() {
    }

    public static int execute(String... args) {
        return Main.execute(args);
    }
}
