package io.labelstream.review;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OriginCheckTest {

    @Test
    void theConsolesOwnPagesMayPost() {
        assertThat(OriginCheck.refusal("127.0.0.1:9480", "http://127.0.0.1:9480", "same-origin")).isEmpty();
        assertThat(OriginCheck.refusal("review.example", "https://review.example", null)).isEmpty();
        assertThat(OriginCheck.refusal("review.example", "https://review.example:443", null)).isEmpty();
        assertThat(OriginCheck.refusal("127.0.0.1:9480", null, "none")).as("typed in the address bar").isEmpty();
    }

    @Test
    void aClientThatIsNoBrowserPageNamesNeither() {
        assertThat(OriginCheck.refusal("127.0.0.1:9480", null, null)).isEmpty();
    }

    @Test
    void otherSitesAreRefusedSayingWhy() {
        assertThat(OriginCheck.refusal("127.0.0.1:9480", "http://evil.example", null))
                .hasValueSatisfying(r -> assertThat(r).contains("evil.example").contains("not this console"));
        assertThat(OriginCheck.refusal("127.0.0.1:9480", "http://127.0.0.1:9481", null)).isPresent();
        assertThat(OriginCheck.refusal("127.0.0.1:9480", "null", null)).as("a sandboxed or file page").isPresent();
        assertThat(OriginCheck.refusal("127.0.0.1:9480", "http://127.0.0.1:9480", "cross-site"))
                .hasValueSatisfying(r -> assertThat(r).contains("cross-site"));
        assertThat(OriginCheck.refusal("127.0.0.1:9480", null, "same-site")).isPresent();
        assertThat(OriginCheck.refusal(null, "http://127.0.0.1:9480", null)).isPresent();
    }
}
