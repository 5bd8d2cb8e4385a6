package io.labelstream.review;

import java.net.URI;
import java.util.Locale;
import java.util.Optional;

/**
 * Refuses state-changing requests that a browser sends on behalf of another site (cross-site request forgery),
 * besides the SameSite=Strict cookie: a request is refused when the browser says it comes from elsewhere
 * (Sec-Fetch-Site) or names an Origin whose host and port are not the Host it was sent to. A request that carries
 * neither header does not come from a browser's page, and still needs the session cookie.
 */
final class OriginCheck {

    private OriginCheck() {
    }

    /** Why the request must be refused, or empty when it may go on. */
    static Optional<String> refusal(String host, String origin, String secFetchSite) {
        if (secFetchSite != null) {
            String site = secFetchSite.strip().toLowerCase(Locale.ROOT);
            if (!site.equals("same-origin") && !site.equals("none")) {
                return Optional.of("a " + site + " request may not change anything here (Sec-Fetch-Site)");
            }
        }
        if (origin != null) {
            if (host == null) {
                return Optional.of("a request naming an Origin must name its Host");
            }
            String authority;
            try {
                URI uri = URI.create(origin.strip());
                authority = uri.getPort() < 0 ? uri.getHost() : uri.getHost() + ":" + uri.getPort();
                if (uri.getHost() == null) {
                    return Optional.of("Origin " + origin + " is not this console");
                }
            } catch (IllegalArgumentException e) {
                return Optional.of("Origin " + origin + " is not a valid origin");
            }
            if (!withoutDefaultPort(authority, origin).equalsIgnoreCase(withoutDefaultPort(host.strip(), origin))) {
                return Optional.of("Origin " + origin + " is not this console (" + host + ")");
            }
        }
        return Optional.empty();
    }

    /** host:80 under http and host:443 under https are the host alone, as browsers write Host. */
    private static String withoutDefaultPort(String authority, String origin) {
        String scheme = origin.strip().toLowerCase(Locale.ROOT).startsWith("https:") ? ":443" : ":80";
        return authority.endsWith(scheme) ? authority.substring(0, authority.length() - scheme.length()) : authority;
    }
}
