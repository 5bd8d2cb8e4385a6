package io.labelstream.stream;

import io.labelstream.model.LabelSet;
import io.labelstream.schema.ModerationFlag;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModerationRulesTest {

    private final LabelSet labels = LabelSet.of(List.of("cat", "rifle", "revolver", "crane", "crane"));

    @Test
    void rulesFireOnAnyListedClassAtOrAboveTheirThreshold() {
        ModerationRules rules = ModerationRules.parse("weapons:label=rifle|Revolver>=0.6; birds:index=3,4>=0.3",
                labels);
        List<ModerationFlag> flags = rules.evaluate(new float[] {0.05f, 0.2f, 0.6f, 0.1f, 0.05f});
        assertThat(flags).hasSize(1);
        assertThat(flags.get(0).getRule()).isEqualTo("weapons");
        assertThat(flags.get(0).getLabel()).isEqualTo("revolver");
        assertThat(flags.get(0).getThreshold()).isEqualTo(0.6f);
        assertThat(rules.evaluate(new float[] {0.9f, 0.05f, 0.05f, 0f, 0f})).isEmpty();
        // A label that names two classes covers both.
        ModerationRules cranes = ModerationRules.parse("cranes:label=crane>=0.5", labels);
        assertThat(cranes.evaluate(new float[] {0, 0, 0, 0.1f, 0.9f})).extracting(ModerationFlag::getClassIndex)
                .containsExactly(4);
        assertThat(ModerationRules.parse(" ", labels).isEmpty()).isTrue();
    }

    @Test
    void aRuleNamingASideModelReadsThatModelsLabelsAndAShadowCannotBeNamed() {
        LabelSet side = LabelSet.of(List.of("safe", "porn", "hentai"));
        ModerationRules rules = ModerationRules.parse("nsfw:model=moderation,label=porn|hentai>=0.8", labels,
                java.util.Map.of("moderation", side, "cand", side), java.util.Set.of("cand"));
        assertThat(rules.evaluate(new float[labels.size()])).as("not a rule on the primary").isEmpty();
        assertThat(rules.evaluate("moderation", new float[] {0.05f, 0.1f, 0.85f})).singleElement()
                .satisfies(f -> {
                    assertThat(f.getRule()).isEqualTo("nsfw");
                    assertThat(f.getLabel()).isEqualTo("hentai");
                });
        assertThat(rules.evaluate("moderation", new float[] {0.9f, 0.05f, 0.05f})).isEmpty();
        assertThatThrownBy(() -> ModerationRules.parse("x:model=cand,index=1>=0.5", labels,
                java.util.Map.of("cand", side), java.util.Set.of("cand")))
                .hasMessageContaining("rule 'x'").hasMessageContaining("shadow");
        assertThatThrownBy(() -> ModerationRules.parse("x:model=other,index=1>=0.5", labels,
                java.util.Map.of("cand", side), java.util.Set.of()))
                .hasMessageContaining("no side model 'other'");
        assertThatThrownBy(() -> ModerationRules.parse("x:model=moderation,label=tank>=0.5", labels,
                java.util.Map.of("moderation", side), java.util.Set.of()))
                .hasMessageContaining("no class labeled 'tank'");
    }

    @Test
    void mistakesAreReportedPerRule() {
        assertThatThrownBy(() -> ModerationRules.parse("x:label=tank>=0.5", labels))
                .hasMessageContaining("rule 'x'").hasMessageContaining("no class labeled 'tank'");
        assertThatThrownBy(() -> ModerationRules.parse("x:index=9>=0.5", labels)).hasMessageContaining("outside");
        assertThatThrownBy(() -> ModerationRules.parse("x:index=1>=1.5", labels)).hasMessageContaining("from 0 to 1");
        assertThatThrownBy(() -> ModerationRules.parse("x:index=1", labels)).hasMessageContaining("must look like");
        assertThatThrownBy(() -> ModerationRules.parse("x:index=1>=0.5;x:index=2>=0.5", labels))
                .hasMessageContaining("used twice");
        assertThatThrownBy(() -> ModerationRules.parse("x:name=cat>=0.5", labels)).hasMessageContaining("label=");
    }
}
