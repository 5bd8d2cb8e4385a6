package io.labelstream.review;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may use the console: the token (review.token) is entered once on the login form and exchanged for a random
 * session id held in an HttpOnly, SameSite=Strict cookie, so the token itself never sits in the browser. A session
 * ends at logout, when the console process stops, or once it has gone unused for the idle timeout
 * (review.session.timeout): an expired session is no session.
 */
public final class ConsoleAccess {

    static final String COOKIE = "labelstream_review";
    private static final SecureRandom RANDOM = new SecureRandom();

    /** A signed-in reviewer and when the session was last used. */
    private record Session(String reviewer, Instant lastUsed) {
    }

    private final byte[] tokenDigest;
    private final Duration idleTimeout;
    private final Clock clock;
    /** Session id to its session. */
    private final Map<String, Session> sessions = new ConcurrentHashMap<>();

    /**
     * @param idleTimeout how long a session may go unused before it ends; positive
     * @param clock       what tells the time (a test's own clock)
     */
    public ConsoleAccess(String token, Duration idleTimeout, Clock clock) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("the review token must not be empty");
        }
        if (idleTimeout.isNegative() || idleTimeout.isZero()) {
            throw new IllegalArgumentException("the session idle timeout must be positive, not " + idleTimeout);
        }
        this.tokenDigest = sha256(token);
        this.idleTimeout = idleTimeout;
        this.clock = clock;
    }

    /** A fresh token for a console started without review.token: 32 random bytes, URL-safe base64. */
    public static String generateToken() {
        return randomId(32);
    }

    /**
     * A new session for {@code reviewer} when {@code offeredToken} is the token; empty otherwise. Compared as
     * digests in constant time, so the time taken tells nothing about the token.
     */
    public Optional<String> login(String offeredToken, String reviewer) {
        if (!isToken(offeredToken)) {
            return Optional.empty();
        }
        Instant now = clock.instant();
        sessions.values().removeIf(s -> expired(s, now));
        String session = randomId(24);
        sessions.put(session, new Session(reviewer == null || reviewer.isBlank() ? "reviewer" : reviewer.strip(),
                now));
        return Optional.of(session);
    }

    /** Whether {@code offered} is the token (constant time), e.g. a bearer token for /metrics. */
    public boolean isToken(String offered) {
        return offered != null && MessageDigest.isEqual(tokenDigest, sha256(offered));
    }

    /**
     * The reviewer whose session the request's Cookie header carries; empty without a live one. The request counts
     * as use of the session.
     */
    public Optional<String> reviewer(String cookieHeader) {
        return reviewer(cookieHeader, true);
    }

    /**
     * The reviewer whose session the request's Cookie header carries; empty without a live one (an expired session
     * ends here).
     *
     * @param use whether the request is the reviewer's own doing and keeps the session alive; the page's
     *            background polling is not
     */
    public Optional<String> reviewer(String cookieHeader, boolean use) {
        Instant now = clock.instant();
        for (String id : sessionIds(cookieHeader)) {
            Session live = sessions.computeIfPresent(id, (k, s) -> expired(s, now) ? null
                    : use ? new Session(s.reviewer(), now) : s);
            if (live != null) {
                return Optional.of(live.reviewer());
            }
        }
        return Optional.empty();
    }

    /** Ends the sessions the Cookie header carries, if any. */
    public void logout(String cookieHeader) {
        sessionIds(cookieHeader).forEach(sessions::remove);
    }

    private boolean expired(Session session, Instant now) {
        return !now.isBefore(session.lastUsed().plus(idleTimeout));
    }

    /** The values of the header's console cookies, in order. */
    private static List<String> sessionIds(String cookieHeader) {
        List<String> ids = new ArrayList<>();
        if (cookieHeader != null) {
            for (String part : cookieHeader.split(";")) {
                String[] pair = part.strip().split("=", 2);
                if (pair.length == 2 && pair[0].equals(COOKIE)) {
                    ids.add(pair[1]);
                }
            }
        }
        return ids;
    }

    /** The Set-Cookie value for a session: not readable by scripts, never sent along a cross-site request. */
    static String cookie(String session) {
        return COOKIE + "=" + session + "; Path=/; HttpOnly; SameSite=Strict";
    }

    /** The Set-Cookie value that makes the browser forget its session. */
    static String expiredCookie() {
        return COOKIE + "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0";
    }

    private static String randomId(int bytes) {
        byte[] b = new byte[bytes];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
    }
}
