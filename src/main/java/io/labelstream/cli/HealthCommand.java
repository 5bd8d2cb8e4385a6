package io.labelstream.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.Callable;

@Command(name = "health", mixinStandardHelpOptions = true,
        description = {"Asks a running instance's ops server whether it is ready (or live): exit 0 if so, 1 if not. "
                + "For container health checks where no curl exists.", "",
                "Example: labelstream health --port 9400 --probe ready"})
final class HealthCommand implements Callable<Integer> {

    @Option(names = "--port", defaultValue = "9400", description = "The instance's ops.port (default ${DEFAULT-VALUE}).")
    int port;

    @Option(names = "--probe", defaultValue = "ready", description = "ready or live (default ${DEFAULT-VALUE}).")
    String probe;

    @Override
    public Integer call() {
        try {
            HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build()
                    .send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/" + probe))
                            .timeout(Duration.ofSeconds(3)).build(), HttpResponse.BodyHandlers.ofString());
            System.out.print(response.body());
            return response.statusCode() == 200 ? 0 : 1;
        } catch (Exception e) {
            System.err.println("labelstream: no answer on port " + port + ": " + e.getClass().getSimpleName());
            return 1;
        }
    }
}
