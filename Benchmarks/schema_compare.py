#!/usr/bin/env python3
"""JSON Schema validation throughput: Harness vs Python's jsonschema (Draft202012Validator),
on the same realistic tool-argument schema and instances, in one run.

Usage: python3 Benchmarks/schema_compare.py [--seconds 2] [--harness PATH]
Needs `swift build -c release --product harness` first; jsonschema from PyPI (preinstalled here).
"""
import argparse, json, os, random, subprocess, sys, tempfile, time

from jsonschema import Draft202012Validator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "order_id": {"type": "string", "pattern": "^ord_[a-z0-9]{8}$"},
        "customer": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1, "maxLength": 100},
                "email": {"type": "string", "format": "email"},
                "address": {"$ref": "#/$defs/address"},
            },
            "required": ["name", "email", "address"],
            "additionalProperties": False,
        },
        "items": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}},
        "shipping": {
            "oneOf": [
                {"type": "object", "properties": {"method": {"const": "standard"}}, "required": ["method"]},
                {"type": "object", "properties": {"method": {"const": "express"}, "by": {"type": "string", "format": "date"}},
                 "required": ["method", "by"]},
            ]
        },
        "metadata": {"type": "object", "additionalProperties": {"type": "string", "maxLength": 200}},
    },
    "required": ["order_id", "customer", "items", "shipping"],
    "additionalProperties": False,
    "$defs": {
        "address": {
            "type": "object",
            "properties": {
                "street": {"type": "string"},
                "city": {"type": "string"},
                "zip": {"type": "string", "pattern": "^[0-9]{5}$"},
                "country": {"enum": ["FR", "DE", "US", "JP", "PT"]},
            },
            "required": ["street", "city", "zip", "country"],
            "additionalProperties": False,
        },
        "item": {
            "type": "object",
            "properties": {
                "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]{4}$"},
                "quantity": {"type": "integer", "minimum": 1, "maximum": 1000},
                "unit_price": {"type": "number", "exclusiveMinimum": 0},
                "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": True, "maxItems": 10},
            },
            "required": ["sku", "quantity", "unit_price"],
            "additionalProperties": False,
        },
    },
}


def instance(n_items, seed=7):
    rnd = random.Random(seed)
    return {
        "order_id": "ord_%08d" % rnd.randrange(10**8),
        "customer": {"name": "Ada Lovelace", "email": "ada@example.com",
                     "address": {"street": "12 Rue de la Paix", "city": "Paris", "zip": "75002", "country": "FR"}},
        "items": [{"sku": "%s-%04d" % ("".join(rnd.choice("ABCDEFGHIJ") for _ in range(3)), rnd.randrange(10000)),
                   "quantity": rnd.randrange(1, 20), "unit_price": round(rnd.uniform(0.5, 500), 2),
                   "tags": ["t%d" % k for k in range(rnd.randrange(0, 5))]} for _ in range(n_items)],
        "shipping": {"method": "express", "by": "2026-12-24"},
        "metadata": {"source": "chat", "campaign": "winter"},
    }


def time_python(validator, value, seconds):
    valid = validator.is_valid(value)
    count, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _ in range(4):
            if valid:
                validator.is_valid(value)
            else:
                list(validator.iter_errors(value))
        count += 4
    return count / (time.perf_counter() - start), valid


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=2.0)
    ap.add_argument("--harness", default=os.path.join(ROOT, ".build/release/harness"))
    args = ap.parse_args()
    if not os.path.exists(args.harness):
        sys.exit("build it first: swift build -c release --product harness")
    Draft202012Validator.check_schema(SCHEMA)
    small = instance(3)
    big = instance(1250)
    bad = instance(3)
    bad["items"][1]["quantity"] = 0
    bad["customer"]["address"]["zip"] = "7500"
    tmp = tempfile.mkdtemp()
    files = {}
    for name, value in [("schema", SCHEMA), ("small", small), ("big", big), ("invalid", bad)]:
        files[name] = os.path.join(tmp, name + ".json")
        with open(files[name], "w") as f:
            json.dump(value, f)
    out = subprocess.run([args.harness, "bench-schema", "--schema", files["schema"], "--seconds", str(args.seconds),
                          "--instance", files["small"], "--instance", files["big"], "--instance", files["invalid"]],
                         check=True, capture_output=True, text=True).stdout
    harness = {r["instance"].replace(".json", ""): r for r in json.loads(out)}
    validator = Draft202012Validator(SCHEMA)
    from importlib.metadata import version
    print("jsonschema %s (Draft202012Validator), Python %s; same schema and instances" % (version("jsonschema"), sys.version.split()[0]))
    print("%-8s %9s %6s %16s %16s %8s" % ("instance", "bytes", "valid", "harness val/s", "python val/s", "ratio"))
    for name in ["small", "big", "invalid"]:
        py_rate, py_valid = time_python(validator, json.load(open(files[name])), args.seconds)
        h = harness[name]
        assert h["valid"] == py_valid, "validators disagree on %s" % name
        print("%-8s %9d %6s %16.0f %16.0f %7.1fx" % (name, h["bytes"], py_valid, h["validations_per_second"], py_rate,
                                                  h["validations_per_second"] / py_rate))
        if name == "big":
            print("%-8s %9s %6s %13.1f MB/s %13.2f MB/s" % ("", "", "", h["mb_per_second"], py_rate * h["bytes"] / 1e6))


if __name__ == "__main__":
    main()
