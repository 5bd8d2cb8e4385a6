package io.labelstream.model;

import org.junit.jupiter.api.Test;

import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;

class LeaseCountTest {

    private final AtomicInteger releases = new AtomicInteger();
    private final LeaseCount count = new LeaseCount(releases::incrementAndGet);

    @Test
    void aRetiredThingIsReleasedByItsLastLeaseExactlyOnceAndLeasesNoMore() {
        Lease first = count.tryLease();
        Lease second = count.tryLease();
        count.retire();
        assertThat(releases).as("two leases open").hasValue(0);

        first.close();
        first.close(); // a second close of the same lease must not count as the other's
        assertThat(releases).as("one lease still open").hasValue(0);
        assertThat(count.isReleased()).isFalse();

        second.close();
        assertThat(releases).hasValue(1);
        assertThat(count.isReleased()).isTrue();
        assertThat(count.tryLease()).isNull();
        count.retire();
        count.releaseNow();
        assertThat(releases).as("released once, whatever follows").hasValue(1);
    }

    @Test
    void aThingNotRetiredStaysWhenItsLeasesCloseAndRetiringItUnleasedReleasesItAtOnce() {
        count.tryLease().close();
        assertThat(releases).hasValue(0);
        assertThat(count.tryLease()).as("still leasable").isNotNull();
        LeaseCount unleased = new LeaseCount(releases::incrementAndGet);
        unleased.retire();
        assertThat(releases).hasValue(1);
    }

    @Test
    void releaseNowReleasesWhateverLeasesAreOpenAndTheirLaterCloseChangesNothing() {
        Lease open = count.tryLease();
        count.releaseNow();
        assertThat(releases).hasValue(1);
        open.close();
        count.retire();
        assertThat(releases).hasValue(1);
    }
}
