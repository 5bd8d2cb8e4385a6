package io.labelstream.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipal;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A private PostgreSQL cluster for a test, from the machine's own PostgreSQL binaries (Debian's {@code postgresql}
 * package: {@code /usr/lib/postgresql/VERSION/bin}): initdb into a temporary folder, then a server on a free
 * loopback port and a socket folder of its own, so it never meets the machine's cluster. PostgreSQL refuses to run as
 * root, so as root the cluster belongs to, and runs as, the {@code postgres} user the package creates.
 */
public final class PostgresServer implements AutoCloseable {

    public static final String USER = "labelstream";
    public static final String DATABASE = "labelstream";
    private static final long COMMAND_BOUND_SECONDS = 60;

    private final Path bin;
    private final Path dir;
    private final int port;

    private PostgresServer(Path bin, Path dir, int port) {
        this.bin = bin;
        this.dir = dir;
        this.port = port;
    }

    /** The newest PostgreSQL's bin folder on this machine, if there is one. */
    public static Optional<Path> binaries() {
        Path root = Path.of("/usr/lib/postgresql");
        if (!Files.isDirectory(root)) {
            return Optional.empty();
        }
        try (Stream<Path> versions = Files.list(root)) {
            return versions.map(v -> v.resolve("bin"))
                    .filter(b -> Files.isExecutable(b.resolve("initdb")) && Files.isExecutable(b.resolve("pg_ctl")))
                    .max(Comparator.comparing(b -> versionOf(b.getParent())));
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    private static int versionOf(Path folder) {
        try {
            return Integer.parseInt(folder.getFileName().toString());
        } catch (NumberFormatException e) {
            return -1;
        }
    }

    /** Initialises and starts a cluster with user and database {@value #USER} (trust authentication, loopback only). */
    public static PostgresServer start(Path bin) throws IOException, InterruptedException {
        Path dir = Files.createTempDirectory("labelstream-postgres-");
        PostgresServer server = new PostgresServer(bin, dir, ChildServers.freePort());
        try {
            server.init();
            return server;
        } catch (IOException | InterruptedException | RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private void init() throws IOException, InterruptedException {
        Files.createDirectories(dir.resolve("socket"));
        if (isRoot()) {
            UserPrincipal postgres = dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("postgres");
            Files.setOwner(dir, postgres);
            Files.setOwner(dir.resolve("socket"), postgres);
        }
        run(bin.resolve("initdb").toString(), "-D", dir.resolve("data").toString(), "-U", USER, "--auth=trust",
                "-E", "UTF8", "--no-sync");
        run(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-l",
                dir.resolve("server.log").toString(), "-w", "-t", "60", "-o", "-p " + port + " -k "
                        + dir.resolve("socket") + " -c listen_addresses=127.0.0.1 -c fsync=off", "start");
        try (Connection c = DriverManager.getConnection(jdbcUrl("postgres"), USER, "")) {
            c.createStatement().execute("CREATE DATABASE " + DATABASE);
        } catch (SQLException e) {
            throw new IOException("could not create database " + DATABASE + ": " + e.getMessage(), e);
        }
    }

    public int port() {
        return port;
    }

    /** JDBC URL of the test database. */
    public String jdbcUrl() {
        return jdbcUrl(DATABASE);
    }

    private String jdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port + "/" + database;
    }

    public Connection connect() throws SQLException {
        return DriverManager.getConnection(jdbcUrl(), USER, "");
    }

    /** Stops the server at once (nothing in it outlives the test) and deletes the cluster. */
    @Override
    public void close() throws InterruptedException {
        try {
            if (Files.exists(dir.resolve("data/postmaster.pid"))) {
                run(bin.resolve("pg_ctl").toString(), "-D", dir.resolve("data").toString(), "-m", "immediate",
                        "-w", "stop");
            }
        } catch (IOException e) {
            System.err.println("PostgreSQL did not stop cleanly: " + e.getMessage());
        } finally {
            ChildServers.deleteRecursively(dir);
        }
    }

    private void run(String... command) throws IOException, InterruptedException {
        List<String> line = new ArrayList<>();
        if (isRoot()) {
            line.addAll(List.of("runuser", "-u", "postgres", "--"));
        }
        line.addAll(List.of(command));
        Path output = Files.createTempFile("labelstream-postgres-command-", ".log");
        try {
            Process p = new ProcessBuilder(line).redirectErrorStream(true).redirectOutput(output.toFile()).start();
            if (!p.waitFor(COMMAND_BOUND_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new IOException(String.join(" ", line) + " did not finish within " + COMMAND_BOUND_SECONDS
                        + " s:\n" + Files.readString(output, StandardCharsets.UTF_8));
            }
            if (p.exitValue() != 0) {
                String log = Files.exists(dir.resolve("server.log")) ? Files.readString(dir.resolve("server.log")) : "";
                throw new IOException(String.join(" ", line) + " exited with " + p.exitValue() + ":\n"
                        + Files.readString(output, StandardCharsets.UTF_8) + log);
            }
        } finally {
            Files.deleteIfExists(output);
        }
    }

    private static boolean isRoot() {
        return "root".equals(System.getProperty("user.name"));
    }

}
