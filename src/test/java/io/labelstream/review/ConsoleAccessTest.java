package io.labelstream.review;

import org.junit.jupiter.api.Test;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConsoleAccessTest {

    /** A clock the test moves by hand. */
    private static final class TestClock extends Clock {
        private Instant now = Instant.parse("2026-01-05T09:00:00Z");

        void advance(Duration d) {
            now = now.plus(d);
        }

        @Override
        public Instant instant() {
            return now;
        }

        @Override
        public ZoneId getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(ZoneId zone) {
            return this;
        }
    }

    private final TestClock clock = new TestClock();
    private final ConsoleAccess access = new ConsoleAccess("s3cret-token", Duration.ofMinutes(30), clock);

    private static String cookie(String session) {
        return ConsoleAccess.COOKIE + "=" + session;
    }

    @Test
    void theTokenOpensASessionNamedForTheReviewerAndNothingElseDoes() {
        Optional<String> session = access.login("s3cret-token", " ana ");
        assertThat(session).isPresent();
        assertThat(access.reviewer("other=1; " + ConsoleAccess.COOKIE + "=" + session.get())).contains("ana");
        assertThat(access.login("wrong", "ana")).isEmpty();
        assertThat(access.login("", "ana")).isEmpty();
        assertThat(access.login(null, "ana")).isEmpty();
        assertThat(access.reviewer(ConsoleAccess.COOKIE + "=made-up")).isEmpty();
        assertThat(access.reviewer(null)).isEmpty();
        assertThat(access.reviewer(ConsoleAccess.COOKIE + "=s3cret-token")).as("the token is not a session").isEmpty();
    }

    @Test
    void sessionsDifferAndEndAtLogout() {
        String a = access.login("s3cret-token", "ana").orElseThrow();
        String b = access.login("s3cret-token", "bo").orElseThrow();
        assertThat(a).isNotEqualTo(b);
        access.logout(ConsoleAccess.COOKIE + "=" + a);
        assertThat(access.reviewer(ConsoleAccess.COOKIE + "=" + a)).isEmpty();
        assertThat(access.reviewer(ConsoleAccess.COOKIE + "=" + b)).contains("bo");
    }

    @Test
    void aSessionUnusedForTheIdleTimeoutIsNoSessionAndUseKeepsItAlive() {
        String ana = access.login("s3cret-token", "ana").orElseThrow();
        clock.advance(Duration.ofMinutes(29));
        assertThat(access.reviewer(cookie(ana))).as("used within the timeout").contains("ana");
        clock.advance(Duration.ofMinutes(29));
        assertThat(access.reviewer(cookie(ana))).as("29 min after its last use").contains("ana");
        clock.advance(Duration.ofMinutes(30));
        assertThat(access.reviewer(cookie(ana))).as("30 min unused").isEmpty();
        clock.advance(Duration.ofSeconds(-1));
        assertThat(access.reviewer(cookie(ana))).as("ended for good, whatever the clock says next").isEmpty();
        String again = access.login("s3cret-token", "ana").orElseThrow();
        assertThat(again).isNotEqualTo(ana);
        assertThat(access.reviewer(cookie(again))).contains("ana");
    }

    @Test
    void thePagesBackgroundPollDoesNotKeepASessionAlive() {
        String bo = access.login("s3cret-token", "bo").orElseThrow();
        for (int minute = 0; minute < 29; minute++) {
            clock.advance(Duration.ofMinutes(1));
            assertThat(access.reviewer(cookie(bo), false)).contains("bo");
        }
        clock.advance(Duration.ofMinutes(1));
        assertThat(access.reviewer(cookie(bo), false)).isEmpty();
        assertThat(access.reviewer(cookie(bo))).isEmpty();
    }

    @Test
    void theIdleTimeoutMustBePositive() {
        assertThatThrownBy(() -> new ConsoleAccess("t", Duration.ZERO, clock)).hasMessageContaining("positive");
    }

    @Test
    void theCookieIsHttpOnlyAndSameSiteStrict() {
        assertThat(ConsoleAccess.cookie("abc")).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/")
                .startsWith(ConsoleAccess.COOKIE + "=abc;");
        assertThat(ConsoleAccess.expiredCookie()).contains("Max-Age=0");
    }

    @Test
    void aGeneratedTokenIsLongAndFreshAndAnEmptyOneIsRefused() {
        String token = ConsoleAccess.generateToken();
        assertThat(token).hasSizeGreaterThanOrEqualTo(40).isNotEqualTo(ConsoleAccess.generateToken());
        assertThatThrownBy(() -> new ConsoleAccess(" ", Duration.ofHours(8), clock))
                .hasMessageContaining("must not be empty");
    }
}
