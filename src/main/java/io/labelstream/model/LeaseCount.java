package io.labelstream.model;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The one lifetime rule of served models and model sets: whoever uses the thing holds a {@link Lease}; once it is
 * retired (replaced, so no new user will want it) and its last lease is closed, it is released, exactly once. A
 * lease cannot be taken after that.
 */
public final class LeaseCount {

    private final Runnable release;
    private int leases;
    private boolean retired;
    private boolean released;

    /** @param release what letting go means (closing native sessions, releasing the models of a set) */
    public LeaseCount(Runnable release) {
        this.release = release;
    }

    /** A lease that holds the thing until it is closed; null when the thing has been released already. */
    public Lease tryLease() {
        synchronized (this) {
            if (released) {
                return null;
            }
            leases++;
        }
        AtomicBoolean closed = new AtomicBoolean();
        return () -> {
            if (closed.compareAndSet(false, true)) {
                letGo();
            }
        };
    }

    private void letGo() {
        boolean releaseNow;
        synchronized (this) {
            leases--;
            releaseNow = retired && leases == 0 && !released;
            released |= releaseNow;
        }
        if (releaseNow) {
            release.run();
        }
    }

    /** No new user will take it: it is released now if no lease is open, else when the last one closes. */
    public void retire() {
        boolean releaseNow;
        synchronized (this) {
            retired = true;
            releaseNow = leases == 0 && !released;
            released |= releaseNow;
        }
        if (releaseNow) {
            release.run();
        }
    }

    /** Releases it whatever leases are open: for the owner's own close, once it knows none is in use. */
    public void releaseNow() {
        synchronized (this) {
            if (released) {
                return;
            }
            released = true;
        }
        release.run();
    }

    /** Leases taken and not closed yet. */
    public synchronized int openLeases() {
        return leases;
    }

    public synchronized boolean isReleased() {
        return released;
    }
}
