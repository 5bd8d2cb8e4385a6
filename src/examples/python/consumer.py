"""Reads labelstream's labels and failures topics (committed records only) and prints one JSON line per record.

    python3 consumer.py --bootstrap-servers localhost:9092 [--labels-topic image-labels]
                        [--failures-topic image-failures] [--schemas DIR] [--expect N] [--timeout SECONDS]
                        [--schema-registry URL [--registry-user-info USER:PASSWORD]]

Values are Avro single-object encoded; with --schema-registry (labelstream's schema.registry.url) they may also be
Confluent-framed, and are read by their writer schema from the registry, resolved to the schemas in --schemas.

With --expect N it stops after N distinct ids and exits 0, or exits 1 if they did not all arrive in time.
"""

import argparse
import json
import os
import sys
import time
import uuid

from confluent_kafka import Consumer

from labelstream_avro import Registry, Schemas

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--labels-topic", default="image-labels")
    parser.add_argument("--failures-topic", default="image-failures")
    parser.add_argument("--schemas", default=os.path.join(HERE, "..", "..", "..", "schemas"))
    parser.add_argument("--expect", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=120)
    parser.add_argument("--schema-registry", metavar="URL")
    parser.add_argument("--registry-user-info", metavar="USER:PASSWORD")
    args = parser.parse_args()

    schemas = Schemas(args.schemas)
    registry = Registry(args.schema_registry, args.registry_user_info) if args.schema_registry else None
    consumer = Consumer({
        "bootstrap.servers": args.bootstrap_servers,
        "group.id": "python-example-" + uuid.uuid4().hex[:8],
        "auto.offset.reset": "earliest",
        # labelstream writes under exactly-once: read only what its transactions committed.
        "isolation.level": "read_committed",
        "enable.auto.commit": False,
    })
    consumer.subscribe([args.labels_topic, args.failures_topic])
    seen = set()
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline and (args.expect == 0 or len(seen) < args.expect):
            msg = consumer.poll(0.5)
            if msg is None:
                continue
            if msg.error():
                print("consumer error: %s" % msg.error(), file=sys.stderr)
                continue
            record = schemas.decode(msg.value(), registry)
            seen.add(record["id"])
            if msg.topic() == args.labels_topic:
                top = record["labels"][0]
                print(json.dumps({"topic": "labels", "id": record["id"], "label": top["label"],
                                  "classIndex": top["classIndex"], "score": round(top["score"], 6),
                                  "model": record["model"]["name"]}))
            else:
                print(json.dumps({"topic": "failures", "id": record["id"], "reason": record["reason"],
                                  "message": record["message"]}))
            sys.stdout.flush()
    finally:
        consumer.close()
    if args.expect and len(seen) < args.expect:
        print("only %d of %d ids arrived within %.0f s" % (len(seen), args.expect, args.timeout), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
