"""Avro single-object encoding of labelstream's records, from the schemas in the repository's schemas/ folder.

Every record value on labelstream's topics is Avro's single-object encoding:

    C3 01                 two marker bytes
    8 bytes               the CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, little-endian
    the Avro binary encoding of the record

The fingerprint must be computed from the Parsing Canonical Form exactly as the Avro specification defines it.
python3-avro 1.11.1's own canonical_form keeps {"type": "long", "logicalType": "timestamp-millis"} as
{"type":"long"} where the specification (and Java's SchemaNormalization) reduces it to "long", so its
fingerprints differ from labelstream's and every event it wrote would come back UNKNOWN_SCHEMA. This module
computes the canonical form itself and leaves only the binary encoding to python3-avro.

Under a schema registry (labelstream's schema.registry.url) values are instead Confluent-framed:

    00                    magic byte
    4 bytes               the writer schema's registry id, big-endian
    the Avro binary encoding of the record

Registry (below) registers and fetches schemas over the Confluent REST API with urllib; Schemas frames and
unframes both ways. Reading, the first byte tells the two apart.

Run it with a schemas folder to print the fingerprints: python3 labelstream_avro.py ../../../schemas
"""

import base64
import io
import json
import os
import struct
import sys
import urllib.error
import urllib.parse
import urllib.request

import avro.io
import avro.schema

MAGIC = b"\xc3\x01"
CONFLUENT_MAGIC = b"\x00"
REGISTRY_CONTENT_TYPE = "application/vnd.schemaregistry.v1+json"
PRIMITIVES = {"null", "boolean", "int", "long", "float", "double", "bytes", "string"}
NAMED = {"record", "error", "enum", "fixed"}

_EMPTY = 0xC15D213AA4D7A795
_TABLE = []
for _i in range(256):
    _fp = _i
    for _ in range(8):
        _fp = (_fp >> 1) ^ (_EMPTY & -(_fp & 1))
    _TABLE.append(_fp)


def fingerprint(text):
    """CRC-64-AVRO (Rabin) of a canonical form, as Avro's SchemaNormalization.fingerprint64 computes it."""
    fp = _EMPTY
    for byte in text.encode("utf-8"):
        fp = (fp >> 8) ^ _TABLE[(fp ^ byte) & 0xFF]
    return fp


def _fullname(name, namespace):
    return name if "." in name or not namespace else namespace + "." + name


def _collect(schema, namespace, into):
    """Every named type a schema defines, by full name, with the namespace it was defined in."""
    if isinstance(schema, list):
        for branch in schema:
            _collect(branch, namespace, into)
    elif isinstance(schema, dict):
        kind = schema.get("type")
        if kind in NAMED:
            full = _fullname(schema["name"], schema.get("namespace", namespace))
            into.setdefault(full, schema)
            inner = full.rsplit(".", 1)[0] if "." in full else ""
            for field in schema.get("fields", []):
                _collect(field["type"], inner, into)
        elif kind == "array":
            _collect(schema["items"], namespace, into)
        elif kind == "map":
            _collect(schema["values"], namespace, into)
        elif isinstance(kind, (dict, list)):
            _collect(kind, namespace, into)


def expand(schema, defined, namespace="", seen=None):
    """The schema with every named type it refers to written out where first used (as Avro's parser needs it)."""
    seen = set() if seen is None else seen
    if isinstance(schema, str):
        if schema in PRIMITIVES:
            return schema
        full = _fullname(schema, namespace)
        if full not in defined:
            full = schema
        if full in seen:
            return full
        if full not in defined:
            raise ValueError("unknown type " + schema)
        return expand(defined[full], defined, namespace, seen)
    if isinstance(schema, list):
        return [expand(branch, defined, namespace, seen) for branch in schema]
    kind = schema["type"]
    if kind in NAMED:
        full = _fullname(schema["name"], schema.get("namespace", namespace))
        if full in seen:
            return full
        seen.add(full)
        out = dict(schema)
        out["name"] = full
        out.pop("namespace", None)
        inner = full.rsplit(".", 1)[0] if "." in full else ""
        if "fields" in schema:
            out["fields"] = [dict(f, type=expand(f["type"], defined, inner, seen)) for f in schema["fields"]]
        return out
    if kind == "array":
        return dict(schema, items=expand(schema["items"], defined, namespace, seen))
    if kind == "map":
        return dict(schema, values=expand(schema["values"], defined, namespace, seen))
    if isinstance(kind, (dict, list, str)) and kind not in PRIMITIVES:
        return expand(kind, defined, namespace, seen)
    return dict(schema)


def canonical_form(schema):
    """Parsing Canonical Form of an expanded schema: the specification's PRIMITIVES, FULLNAMES, STRIP, ORDER,
    STRINGS and WHITESPACE rules (a primitive with attributes, logical types included, becomes its name)."""
    if isinstance(schema, str):
        return json.dumps(schema)
    if isinstance(schema, list):
        return "[" + ",".join(canonical_form(b) for b in schema) + "]"
    kind = schema["type"]
    if kind in PRIMITIVES:
        return json.dumps(kind)
    if kind in NAMED:
        parts = ['"name":' + json.dumps(schema["name"]), '"type":' + json.dumps(kind)]
        if "fields" in schema:
            parts.append('"fields":[' + ",".join('{"name":' + json.dumps(f["name"]) + ',"type":'
                                                 + canonical_form(f["type"]) + "}" for f in schema["fields"]) + "]")
        if "symbols" in schema:
            parts.append('"symbols":[' + ",".join(json.dumps(s) for s in schema["symbols"]) + "]")
        if "size" in schema:
            parts.append('"size":' + str(int(schema["size"])))
        return "{" + ",".join(parts) + "}"
    if kind == "array":
        return '{"type":"array","items":' + canonical_form(schema["items"]) + "}"
    if kind == "map":
        return '{"type":"map","values":' + canonical_form(schema["values"]) + "}"
    return canonical_form(kind)


class _ResolvingReader(avro.io.DatumReader):
    """python3-avro 1.11 ignores an enum's default: a symbol a newer writer added (a new failure reason) would stop
    the reader, where the specification, and labelstream's Java readers, read it as the default (UNKNOWN)."""

    def read_enum(self, writers_schema, readers_schema, decoder):
        index = decoder.read_int()
        if index >= len(writers_schema.symbols):
            raise avro.errors.SchemaResolutionException("enum index %d out of range" % index, writers_schema,
                                                        readers_schema)
        symbol = writers_schema.symbols[index]
        default = readers_schema.get_prop("default")
        return symbol if symbol in readers_schema.symbols or default is None else default


class Schemas:
    """labelstream's current schemas, and in history/ every earlier version still to be read."""

    def __init__(self, folder):
        current = {}
        for name in sorted(os.listdir(folder)):
            if name.endswith(".avsc"):
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    current[name[:-5]] = json.load(f)
        defined = {}
        for schema in current.values():
            _collect(schema, "", defined)
        self.current = {}
        self.history = {}
        self.by_fingerprint = {}
        # The JSON registered under a subject: self-contained (named types written out), as a registry needs it.
        self.text = {}
        for name, schema in current.items():
            expanded = expand(schema, defined)
            self.text[name] = json.dumps(expanded)
            self.current[name] = self._add(expanded)
        # Reader schemas by full name: a registry's writer schema is resolved to the current one of its name.
        self.by_fullname = {entry[1].fullname: entry[1] for entry in self.current.values()}
        history = os.path.join(folder, "history")
        for name in sorted(os.listdir(history)) if os.path.isdir(history) else []:
            if name.endswith(".avsc"):
                with open(os.path.join(history, name), encoding="utf-8") as f:
                    old = json.load(f)
                own = dict(defined)
                mine = {}
                _collect(old, "", mine)
                own.update(mine)
                self.history[name[:-5]] = self._add(expand(old, own))

    def _add(self, expanded):
        form = canonical_form(expanded)
        entry = (fingerprint(form), avro.schema.parse(json.dumps(expanded)), form)
        self.by_fingerprint[entry[0]] = entry
        return entry

    def fingerprint(self, name):
        return self.current[name][0]

    def encode(self, name, record, schema_id=None):
        """record (a dict) by the current schema called name: single-object encoded, or Confluent-framed under
        registry id schema_id when one is given."""
        fp, schema, _ = self.current[name]
        out = io.BytesIO()
        if schema_id is None:
            out.write(MAGIC + struct.pack("<Q", fp))
        else:
            out.write(CONFLUENT_MAGIC + schema_id.to_bytes(4, "big"))
        avro.io.DatumWriter(schema).write(record, avro.io.BinaryEncoder(out))
        return out.getvalue()

    def decode(self, data, registry=None):
        """A record (a dict) from a value, by its first byte: single-object by whichever known schema wrote it;
        Confluent-framed by its writer schema from registry, resolved to the current schema of the same name."""
        if data[:1] == CONFLUENT_MAGIC and len(data) >= 5:
            if registry is None:
                raise ValueError("Confluent-framed value (schema id %d): a schema registry is needed to read it"
                                 % int.from_bytes(data[1:5], "big"))
            writer = registry.schema(int.from_bytes(data[1:5], "big"))
            if writer.fullname not in self.by_fullname:
                raise ValueError("writer schema %s is none of labelstream's current schemas" % writer.fullname)
            reader = _ResolvingReader(writer, self.by_fullname[writer.fullname])
            return reader.read(avro.io.BinaryDecoder(io.BytesIO(data[5:])))
        if len(data) < 10 or data[:2] != MAGIC:
            raise ValueError("neither Avro single-object encoding (C3 01) nor Confluent framing (00)")
        (fp,) = struct.unpack("<Q", data[2:10])
        if fp not in self.by_fingerprint:
            raise ValueError("unknown writer schema, fingerprint %016x" % fp)
        schema = self.by_fingerprint[fp][1]
        return avro.io.DatumReader(schema, schema).read(avro.io.BinaryDecoder(io.BytesIO(data[10:])))


class Registry:
    """The two calls of the Confluent Schema Registry REST API a client needs (Confluent, Apicurio's
    /apis/ccompat/v7, Karapace, Redpanda all serve them): register a schema under a subject, fetch one by id."""

    def __init__(self, url, user_info=None, timeout=30):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.headers = {"Accept": REGISTRY_CONTENT_TYPE + ", application/json"}
        if user_info:
            self.headers["Authorization"] = "Basic " + base64.b64encode(user_info.encode()).decode()
        # Writer schemas by id: ids are immutable in a registry, so one fetch per id is enough.
        self.by_id = {}

    def _call(self, method, path, body=None):
        headers = dict(self.headers)
        if body is not None:
            headers["Content-Type"] = REGISTRY_CONTENT_TYPE
            body = json.dumps(body).encode()
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                return json.load(response)
        except urllib.error.HTTPError as e:
            # The registry's own words (message, error_code) say why: a 409 incompatible schema, a 404 unknown id.
            raise RuntimeError("%s %s: HTTP %d %s" % (method, self.url + path, e.code,
                                                      e.read().decode(errors="replace").strip())) from None

    def register(self, subject, schema_text):
        """The id of schema_text under subject, registering it there (the same schema again keeps its id)."""
        path = "/subjects/%s/versions" % urllib.parse.quote(subject, safe="")
        return self._call("POST", path, {"schema": schema_text})["id"]

    def schema(self, schema_id):
        """The parsed writer schema with registry id schema_id."""
        if schema_id not in self.by_id:
            answer = self._call("GET", "/schemas/ids/%d" % schema_id)
            if answer.get("schemaType", "AVRO") != "AVRO":
                raise ValueError("schema id %d is a %s schema, not Avro" % (schema_id, answer["schemaType"]))
            self.by_id[schema_id] = avro.schema.parse(answer["schema"])
        return self.by_id[schema_id]


if __name__ == "__main__":
    schemas = Schemas(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..",
                                                                              "..", "schemas"))
    for schema_name in sorted(schemas.current):
        print("%s %016x" % (schema_name, schemas.fingerprint(schema_name)))
    for schema_name in sorted(schemas.history):
        print("history/%s %016x" % (schema_name, schemas.history[schema_name][0]))
