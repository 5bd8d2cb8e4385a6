package io.labelstream.stream;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.streams.KafkaClientSupplier;

import java.lang.reflect.InvocationHandler;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Ends a stream thread's poll when one of its tasks has work, so that an idle thread can block in its poll for long
 * ({@code poll.ms}) and still answer at once. Kafka Streams runs punctuators and commits only between two polls of
 * a thread's main consumer and never shortens a poll for them; the batcher's work arrives from other threads (a
 * batch finishes in the engine, a fetch completes) or falls due at a time (a partial batch's delay, a commit of
 * forwarded output). Each main consumer is therefore wrapped: its poll waits no longer than the earliest time one
 * of its thread's tasks asked for ({@link TaskWakeup#runAt}), and {@link TaskWakeup#runNow} ends a poll in progress
 * with {@link Consumer#wakeup()}, whose exception the wrapper alone consumes (Kafka Streams never calls wakeup on
 * its main consumer and does not expect the exception).
 *
 * <p>Only the classic consumer group protocol builds the main consumer through {@link #clientSupplier()}; with
 * {@code group.protocol=streams} Kafka Streams builds its own, {@link #forCurrentThread()} finds none, and the
 * batcher falls back to a short {@code poll.ms} (see {@link Pipeline}).
 */
public final class StreamThreadWakeups {

    /** Kafka's default poll.ms: how long polls may last while the instance is not RUNNING. */
    static final long UNSETTLED_POLL_MS = 100;

    private final Map<Thread, WakeableConsumer> consumers = new ConcurrentHashMap<>();
    /**
     * Whether the instance is RUNNING. Until then (starting, rebalancing, restoring state) a thread has to come
     * round to move its tasks on, and nothing here would wake it for that, so its polls stay short.
     */
    private volatile boolean running;

    StreamThreadWakeups() {
    }

    void instanceRunning(boolean running) {
        this.running = running;
    }

    /** For TopologyTestDriver and other drivers that are not a stream thread blocked in a poll. */
    public static final StreamThreadWakeups NONE = new StreamThreadWakeups();

    public KafkaClientSupplier clientSupplier() {
        return new KafkaClientSupplier() {
            @Override
            public Admin getAdmin(Map<String, Object> config) {
                return Admin.create(config);
            }

            @Override
            public Producer<byte[], byte[]> getProducer(Map<String, Object> config) {
                return new KafkaProducer<>(config, new ByteArraySerializer(), new ByteArraySerializer());
            }

            @Override
            public Consumer<byte[], byte[]> getConsumer(Map<String, Object> config) {
                return new WakeableConsumer(new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                        new ByteArrayDeserializer()), StreamThreadWakeups.this).proxy();
            }

            /**
             * The state updater polls its restore consumer for {@code poll.ms} too, and only between polls sees that
             * a changelog is restored; its polls stay at Kafka's default, so a long poll.ms never delays a task.
             */
            @Override
            public Consumer<byte[], byte[]> getRestoreConsumer(Map<String, Object> config) {
                Consumer<byte[], byte[]> delegate = new KafkaConsumer<>(config, new ByteArrayDeserializer(),
                        new ByteArrayDeserializer());
                return proxy((proxy, method, args) -> {
                    if (method.getName().equals("poll") && args != null && args.length == 1
                            && args[0] instanceof Duration timeout) {
                        return delegate.poll(Duration.ofMillis(Math.min(timeout.toMillis(), UNSETTLED_POLL_MS)));
                    }
                    try {
                        return method.invoke(delegate, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
            }

            @Override
            public Consumer<byte[], byte[]> getGlobalConsumer(Map<String, Object> config) {
                return new KafkaConsumer<>(config, new ByteArrayDeserializer(), new ByteArrayDeserializer());
            }
        };
    }

    @SuppressWarnings("unchecked")
    private static Consumer<byte[], byte[]> proxy(InvocationHandler handler) {
        return (Consumer<byte[], byte[]>) Proxy.newProxyInstance(Consumer.class.getClassLoader(),
                new Class<?>[] {Consumer.class}, handler);
    }

    /**
     * A wake-up for one task of the calling stream thread; one that does nothing when the thread's main consumer
     * is not one of ours (not a stream thread, or the streams group protocol).
     */
    TaskWakeup forCurrentThread() {
        WakeableConsumer consumer = consumers.get(Thread.currentThread());
        return consumer == null ? TaskWakeup.INERT : consumer.newTaskWakeup();
    }

    /** Ends every thread's poll now: on shutdown, so the threads see their new state without waiting out a poll. */
    void wakeAll() {
        consumers.values().forEach(WakeableConsumer::wake);
    }

    /** When one task wants its thread to run next; set from any thread, cleared by the task's punctuation. */
    static class TaskWakeup {

        static final TaskWakeup INERT = new TaskWakeup(null);

        private final WakeableConsumer consumer;
        private final AtomicLong runAtMs = new AtomicLong(Long.MAX_VALUE);

        private TaskWakeup(WakeableConsumer consumer) {
            this.consumer = consumer;
        }

        /** The thread's poll ends by {@code epochMs}; the earliest time asked for wins until {@link #clear()}. */
        void runAt(long epochMs) {
            runAtMs.accumulateAndGet(epochMs, Math::min);
        }

        /** Ends the thread's poll now (called from the engine's and the fetcher's threads). */
        void runNow() {
            runAt(System.currentTimeMillis());
            if (consumer != null) {
                consumer.wake();
            }
        }

        /** The times asked for so far have come: the task's punctuation is running. */
        void clear() {
            runAtMs.set(Long.MAX_VALUE);
        }

        long runAtMs() {
            return runAtMs.get();
        }

        /** The task is closed: its times no longer shorten the thread's polls. */
        void close() {
            if (consumer != null) {
                consumer.tasks.remove(this);
            }
        }
    }

    /** The main consumer of one stream thread, behind a proxy whose poll honours its tasks' wake-ups. */
    private static final class WakeableConsumer implements InvocationHandler {

        private static final long STALE_AFTER_MS = 1_000;

        private final Consumer<byte[], byte[]> delegate;
        private final Map<Thread, WakeableConsumer> registry;
        private final Set<TaskWakeup> tasks = ConcurrentHashMap.newKeySet();
        /** Set while the stream thread is inside the delegate's poll; read by {@link #wake()}. */
        private volatile boolean polling;
        /** A wakeup() of ours is outstanding: the next WakeupException is ours to consume. */
        private final AtomicBoolean woken = new AtomicBoolean();
        private volatile boolean registered;

        private final StreamThreadWakeups owner;

        WakeableConsumer(Consumer<byte[], byte[]> delegate, StreamThreadWakeups owner) {
            this.delegate = delegate;
            this.registry = owner.consumers;
            this.owner = owner;
        }

        Consumer<byte[], byte[]> proxy() {
            return StreamThreadWakeups.proxy(this);
        }

        TaskWakeup newTaskWakeup() {
            TaskWakeup wakeup = new TaskWakeup(this);
            tasks.add(wakeup);
            return wakeup;
        }

        void wake() {
            // Ordered against poll(): it sets polling before reading the tasks' times, this writes a time before
            // reading polling, so either the poll sees the time or this sees the poll.
            if (polling && woken.compareAndSet(false, true)) {
                delegate.wakeup();
            }
        }

        @Override
        public Object invoke(Object proxy, Method method, Object[] args) throws Throwable {
            String name = method.getName();
            if (name.equals("poll") && args != null && args.length == 1 && args[0] instanceof Duration timeout) {
                return poll(timeout);
            }
            if (name.equals("close")) {
                registry.values().remove(this);
            }
            while (true) {
                try {
                    return method.invoke(delegate, args);
                } catch (InvocationTargetException e) {
                    // A wake-up meant for a poll that had already returned lands in the next blocking call.
                    if (!(e.getCause() instanceof WakeupException && woken.getAndSet(false))) {
                        throw e.getCause();
                    }
                }
            }
        }

        private ConsumerRecords<byte[], byte[]> poll(Duration timeout) {
            if (!registered) {
                registry.put(Thread.currentThread(), this);
                registered = true;
            }
            polling = true;
            try {
                long now = System.currentTimeMillis();
                long earliest = Long.MAX_VALUE;
                for (TaskWakeup task : tasks) {
                    long at = task.runAtMs();
                    // A time a task's punctuation should long since have cleared would make every poll return
                    // at once; past this it no longer shortens the poll (a defence, not a path taken).
                    if (at >= now - STALE_AFTER_MS) {
                        earliest = Math.min(earliest, at);
                    }
                }
                Duration wait = owner.running ? timeout
                        : Duration.ofMillis(Math.min(timeout.toMillis(), UNSETTLED_POLL_MS));
                if (earliest != Long.MAX_VALUE) {
                    long untilMs = Math.max(0, earliest - now);
                    wait = Duration.ofMillis(Math.min(wait.toMillis(), untilMs));
                }
                return delegate.poll(wait);
            } catch (WakeupException e) {
                if (woken.getAndSet(false)) {
                    return ConsumerRecords.empty();
                }
                throw e;
            } finally {
                polling = false;
            }
        }
    }
}
