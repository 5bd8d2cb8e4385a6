package io.labelstream.stream;

import io.labelstream.schema.ImageEvent;
import io.labelstream.schema.ImageLabelRank;
import io.labelstream.schema.ImageLabelRow;
import io.labelstream.schema.ImageLabels;
import io.labelstream.schema.ImageReference;
import io.labelstream.schema.Label;
import io.labelstream.schema.ModerationFlag;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An ImageLabels record as the flat rows a table sink writes without help: its top-1, model, source and flags as one
 * {@link ImageLabelRow}, its top-k as one {@link ImageLabelRank} per rank. Kafka Connect's own transforms cannot turn
 * the top-k array into rows, and JDBC sinks write no arrays of records, so labelstream writes these itself.
 */
final class FlatRows {

    private FlatRows() {
    }

    /** @param event the input event {@code labels} are of */
    static ImageLabelRow row(ImageLabels labels, ImageEvent event) {
        Label top = labels.getLabels().get(0);
        List<ModerationFlag> flags = labels.getFlags();
        return ImageLabelRow.newBuilder()
                .setId(labels.getId())
                .setModelName(labels.getModel().getName())
                .setModelVersion(labels.getModel().getVersion())
                .setModelSha256(labels.getModel().getSha256())
                .setLabel(top.getLabel())
                .setClassIndex(top.getClassIndex())
                .setScore(top.getScore())
                .setRanks(labels.getLabels().size())
                .setFlagged(!flags.isEmpty())
                // A rule that fires on several classes is one name here: the column says which rules fired.
                .setFlags(flags.stream().map(ModerationFlag::getRule).distinct().collect(Collectors.joining(",")))
                .setSourceTopic(labels.getSource().getTopic())
                .setSourcePartition(labels.getSource().getPartition())
                .setSourceOffset(labels.getSource().getOffset())
                .setImageUri(event.getImage() instanceof ImageReference ref ? ref.getUri() : null)
                .setEventTime(event.getEventTime())
                .setLabeledAt(labels.getLabeledAt())
                .setFromCache(labels.getFromCache())
                .build();
    }

    /** Best first: rank 1 is the top-1 of {@link #row}. */
    static List<ImageLabelRank> ranks(ImageLabels labels) {
        List<ImageLabelRank> ranks = new ArrayList<>();
        for (int i = 0; i < labels.getLabels().size(); i++) {
            Label label = labels.getLabels().get(i);
            ranks.add(ImageLabelRank.newBuilder()
                    .setId(labels.getId())
                    .setRank(i + 1)
                    .setLabel(label.getLabel())
                    .setClassIndex(label.getClassIndex())
                    .setScore(label.getScore())
                    .setModelName(labels.getModel().getName())
                    .setModelSha256(labels.getModel().getSha256())
                    .setLabeledAt(labels.getLabeledAt())
                    .build());
        }
        return ranks;
    }
}
