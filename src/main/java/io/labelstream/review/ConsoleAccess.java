package io.labelstream.review;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Who may use the console: the token (review.token) is entered once on the login form and exchanged for a random
 * session id held in an HttpOnly, SameSite=Strict cookie, so the token itself never sits in the browser. Sessions
 * live as long as the console process.
 */
public final class ConsoleAccess {

    static final String COOKIE = "labelstream_review";
    private static final SecureRandom RANDOM = new SecureRandom();

    private final byte[] tokenDigest;
    /** Session id to the reviewer's name. */
    private final Map<String, String> sessions = new ConcurrentHashMap<>();

    public ConsoleAccess(String token) {
        if (token == null || token.isBlank()) {
            throw new IllegalArgumentException("the review token must not be empty");
        }
        this.tokenDigest = sha256(token);
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
        String session = randomId(24);
        sessions.put(session, reviewer == null || reviewer.isBlank() ? "reviewer" : reviewer.strip());
        return Optional.of(session);
    }

    /** Whether {@code offered} is the token (constant time), e.g. a bearer token for /metrics. */
    public boolean isToken(String offered) {
        return offered != null && MessageDigest.isEqual(tokenDigest, sha256(offered));
    }

    /** The reviewer whose session the request's Cookie header carries; empty without a valid one. */
    public Optional<String> reviewer(String cookieHeader) {
        return sessionIn(cookieHeader).map(sessions::get);
    }

    /** Ends the session the Cookie header carries, if any. */
    public void logout(String cookieHeader) {
        sessionIn(cookieHeader).ifPresent(sessions::remove);
    }

    /** The first of the header's console cookies that names a live session. */
    private Optional<String> sessionIn(String cookieHeader) {
        if (cookieHeader == null) {
            return Optional.empty();
        }
        for (String part : cookieHeader.split(";")) {
            String[] pair = part.strip().split("=", 2);
            if (pair.length == 2 && pair[0].equals(COOKIE) && sessions.containsKey(pair[1])) {
                return Optional.of(pair[1]);
            }
        }
        return Optional.empty();
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
