package io.labelstream.review;

import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConsoleAccessTest {

    private final ConsoleAccess access = new ConsoleAccess("s3cret-token");

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
    void theCookieIsHttpOnlyAndSameSiteStrict() {
        assertThat(ConsoleAccess.cookie("abc")).contains("HttpOnly").contains("SameSite=Strict").contains("Path=/")
                .startsWith(ConsoleAccess.COOKIE + "=abc;");
        assertThat(ConsoleAccess.expiredCookie()).contains("Max-Age=0");
    }

    @Test
    void aGeneratedTokenIsLongAndFreshAndAnEmptyOneIsRefused() {
        String token = ConsoleAccess.generateToken();
        assertThat(token).hasSizeGreaterThanOrEqualTo(40).isNotEqualTo(ConsoleAccess.generateToken());
        assertThatThrownBy(() -> new ConsoleAccess(" ")).hasMessageContaining("must not be empty");
    }
}
