"""Publishes image files to labelstream's input topic as ImageEvent records, the bytes inline.

    python3 producer.py --bootstrap-servers localhost:9092 [--topic images] [--schemas DIR]
                        [--schema-registry URL [--registry-user-info USER:PASSWORD]] IMAGE...

Each event's key and id is the file's name; the record value is Avro single-object encoding (labelstream_avro),
or with --schema-registry (labelstream's schema.registry.url) Confluent-framed under the id the registry gives
the ImageEvent schema in subject TOPIC-value, registered there first.
Prints the ids it published, one per line, and exits 1 if any was not acknowledged.
"""

import argparse
import datetime
import mimetypes
import os
import sys

from confluent_kafka import Producer

from labelstream_avro import Registry, Schemas

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bootstrap-servers", required=True)
    parser.add_argument("--topic", default="images")
    parser.add_argument("--schemas", default=os.path.join(HERE, "..", "..", "..", "schemas"))
    parser.add_argument("--schema-registry", metavar="URL")
    parser.add_argument("--registry-user-info", metavar="USER:PASSWORD")
    parser.add_argument("images", nargs="+")
    args = parser.parse_args()

    schemas = Schemas(args.schemas)
    schema_id = None
    if args.schema_registry:
        # TopicNameStrategy, as labelstream and Confluent's serializers use: the subject is the topic's.
        schema_id = Registry(args.schema_registry, args.registry_user_info).register(args.topic + "-value",
                                                                                     schemas.text["ImageEvent"])
    producer = Producer({"bootstrap.servers": args.bootstrap_servers, "enable.idempotence": True})
    failed = []

    def delivered(err, msg):
        if err is not None:
            failed.append("%s: %s" % (msg.key().decode(), err))

    for path in args.images:
        with open(path, "rb") as f:
            data = f.read()
        image_id = os.path.basename(path)
        event = {
            "id": image_id,
            "image": {"data": data, "contentType": mimetypes.guess_type(path)[0]},
            "source": "python-example",
            "attributes": {"file": image_id},
            "eventTime": datetime.datetime.now(datetime.timezone.utc),
        }
        producer.produce(args.topic, key=image_id.encode(), value=schemas.encode("ImageEvent", event, schema_id),
                         on_delivery=delivered)
        producer.poll(0)
        print(image_id)
    remaining = producer.flush(60)
    if remaining or failed:
        print("not delivered: %d; failed: %s" % (remaining, failed), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
