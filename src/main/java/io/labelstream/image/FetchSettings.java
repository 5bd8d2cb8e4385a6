package io.labelstream.image;

import io.labelstream.config.ConfigException;
import io.labelstream.config.LabelstreamConfig;
import io.labelstream.config.Settings;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/** The fetch.* settings, parsed once into what fetches references and lists buckets; stops start-up naming a setting. */
public final class FetchSettings {

    private FetchSettings() {
    }

    /** The reference fetcher the fetch.* settings describe, or null when they allow no references. */
    public static ReferenceFetcher fetcher(LabelstreamConfig config) {
        List<Path> roots = new ArrayList<>();
        for (String root : config.get(Settings.FETCH_FILE_ROOTS).split(",")) {
            if (!root.isBlank()) {
                Path path = Path.of(root.strip());
                if (!Files.isDirectory(path)) {
                    throw ConfigException.invalid(Settings.FETCH_FILE_ROOTS.key(),
                            config.get(Settings.FETCH_FILE_ROOTS), "'" + root.strip() + "' is not a folder");
                }
                roots.add(path);
            }
        }
        Set<String> hosts = new HashSet<>();
        for (String host : config.get(Settings.FETCH_HTTP_HOSTS).split(",")) {
            if (!host.isBlank()) {
                hosts.add(host.strip().toLowerCase(Locale.ROOT));
            }
        }
        List<S3Location> areas = s3Areas(config);
        var policy = new ReferenceFetcher.Policy(roots, hosts, config.get(Settings.FETCH_TIMEOUT_MS),
                config.get(Settings.IMAGE_MAX_BYTES), config.get(Settings.FETCH_THREADS), areas,
                areas.isEmpty() ? null : s3(config));
        if (!policy.enabled()) {
            return null;
        }
        try {
            return new ReferenceFetcher(policy);
        } catch (IOException e) {
            throw ConfigException.invalid(Settings.FETCH_FILE_ROOTS.key(), config.get(Settings.FETCH_FILE_ROOTS),
                    e.getMessage());
        } catch (S3Store.NoRegionException e) {
            throw ConfigException.invalid(Settings.FETCH_S3_REGION.key(), "", e.getMessage()
                    + "; set it, or fetch.s3.endpoint for an S3-compatible store");
        }
    }

    /**
     * The buckets and prefixes of {@code fetch.s3.buckets}: {@code bucket} is the whole bucket; {@code bucket/prefix}
     * the keys below that folder, so {@code photos/2026} allows {@code photos/2026/a.jpg} and not
     * {@code photos/2026-private/a.jpg}.
     */
    public static List<S3Location> s3Areas(LabelstreamConfig config) {
        List<S3Location> areas = new ArrayList<>();
        String value = config.get(Settings.FETCH_S3_BUCKETS);
        for (String entry : value.split(",")) {
            if (entry.isBlank()) {
                continue;
            }
            S3Location area;
            try {
                area = S3Location.parse(S3Location.SCHEME + entry.strip());
            } catch (IllegalArgumentException e) {
                throw ConfigException.invalid(Settings.FETCH_S3_BUCKETS.key(), value, e.getMessage());
            }
            areas.add(area.key().isEmpty() || area.key().endsWith("/") ? area
                    : new S3Location(area.bucket(), area.key() + "/"));
        }
        return areas;
    }

    /** How to reach S3 by the fetch.s3.* settings, credentials from the AWS SDK's default chain. */
    public static S3Store.Settings s3(LabelstreamConfig config) {
        String endpoint = config.get(Settings.FETCH_S3_ENDPOINT);
        URI uri = null;
        if (!endpoint.isBlank()) {
            try {
                uri = URI.create(endpoint.strip());
            } catch (IllegalArgumentException e) {
                throw ConfigException.invalid(Settings.FETCH_S3_ENDPOINT.key(), endpoint, e.getMessage());
            }
            if (uri.getScheme() == null || !uri.getScheme().matches("https?") || uri.getHost() == null) {
                throw ConfigException.invalid(Settings.FETCH_S3_ENDPOINT.key(), endpoint,
                        "an http:// or https:// URL such as http://minio:9000");
            }
        }
        return new S3Store.Settings(config.get(Settings.FETCH_S3_REGION), uri,
                Boolean.parseBoolean(config.get(Settings.FETCH_S3_PATH_STYLE)), null,
                Duration.ofMillis(config.get(Settings.FETCH_TIMEOUT_MS)));
    }
}
