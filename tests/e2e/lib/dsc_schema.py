#!/usr/bin/python3
"""Validates our DSC v3 resource against DSC's own published JSON schemas (kept unmodified in
tests/data/dsc-schemas/, see its README), with Debian's python3-jsonschema.

  dsc_schema.py manifest MANIFEST          the resource manifest against DSC's manifest schema
  dsc_schema.py config MANIFEST DOC.yaml   a configuration document against DSC's document schema,
                                           and each of its instances of our type against the
                                           manifest's embedded instance schema
  dsc_schema.py instances MANIFEST         each JSON object line on stdin against the instance schema
                                           (what DSC checks a resource's get/test/set/export output
                                           against); lines that are JSON arrays (diffs) must be
                                           arrays of property names
Exit 0 when valid; 1 with one line per problem otherwise.
"""

import json
import os
import sys
from urllib.parse import urldefrag

import jsonschema
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMAS = os.path.join(HERE, "..", "..", "data", "dsc-schemas")
RAW = "https://raw.githubusercontent.com/PowerShell/DSC/main/schemas/"
AKA = "https://aka.ms/dsc/schemas/"


def load_json(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def bundled(name):
    """A bundled schema and a store of every schema it bundles, by $id (and its aka.ms alias)."""
    schema = load_json(os.path.join(SCHEMAS, name))
    store = {}

    def add(s):
        if isinstance(s, dict) and isinstance(s.get("$id"), str):
            store[s["$id"].rstrip("/")] = s
            if s["$id"].startswith(RAW):
                store[(AKA + s["$id"][len(RAW):]).rstrip("/")] = s

    add(schema)
    for s in schema.get("$defs", {}).values():
        add(s)
    return schema, store


class Resolver(jsonschema.RefResolver):
    """Resolves from the bundle first: python3-jsonschema 4.10 fails on a bundle's own lookup when
    a schema has a property named "$id" (it takes the property's schema for an identifier)."""

    def resolve(self, ref):
        url = self._urljoin_cache(self.resolution_scope, ref).rstrip("/")
        base, fragment = urldefrag(url)
        if base.rstrip("/") in self.store:
            document = self.store[base.rstrip("/")]
            return url, self.resolve_fragment(document, fragment) if fragment else document
        return super().resolve(ref)


def validator(schema, store):
    return jsonschema.Draft202012Validator(
        schema, resolver=Resolver.from_schema(schema, store=store)
    )


def report(what, errors):
    problems = [f"{what}: {'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in errors]
    for p in problems:
        print(p)
    return len(problems)


def instance_validator(manifest_path):
    manifest = load_json(manifest_path)
    _, store = bundled("resource-manifest.json")
    embedded = manifest["schema"]["embedded"]
    return manifest, validator(embedded, store)


def main(argv):
    if len(argv) < 3:
        print(__doc__)
        return 2
    mode, manifest_path = argv[1], argv[2]
    problems = 0
    if mode == "manifest":
        schema, store = bundled("resource-manifest.json")
        manifest = load_json(manifest_path)
        problems += report(manifest_path, validator(schema, store).iter_errors(manifest))
        jsonschema.Draft202012Validator.check_schema(manifest["schema"]["embedded"])
    elif mode == "config":
        manifest, instances = instance_validator(manifest_path)
        with open(argv[3], encoding="utf-8") as f:
            document = yaml.safe_load(f)
        schema, store = bundled("config-document.json")
        problems += report(argv[3], validator(schema, store).iter_errors(document))
        ours = [r for r in document.get("resources", []) if r.get("type") == manifest["type"]]
        if not ours:
            print(f"{argv[3]}: no instance of {manifest['type']}")
            problems += 1
        for r in ours:
            problems += report(f"{argv[3]}: {r.get('name')}", instances.iter_errors(r.get("properties", {})))
    elif mode == "instances":
        manifest, instances = instance_validator(manifest_path)
        names = set(manifest["schema"]["embedded"]["properties"])
        for number, line in enumerate(sys.stdin, 1):
            value = json.loads(line)
            if isinstance(value, list):
                bad = [p for p in value if p not in names]
                if bad or len(set(value)) != len(value):
                    print(f"line {number}: diff {value} names unknown or repeated properties")
                    problems += 1
            else:
                problems += report(f"line {number}", instances.iter_errors(value))
    else:
        print(__doc__)
        return 2
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
