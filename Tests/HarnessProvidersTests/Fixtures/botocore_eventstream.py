"""Decodes an AWS event stream file with botocore's own parser (`EventStreamBuffer`) and
prints what it found as JSON, for AWSEventStreamTests to compare with Harness's decoder.

usage: botocore_eventstream.py FILE [--byte-by-byte]

stdout: {"messages": [{"headers": [[name, kind, value]], "payload": hex}], "error": null | "Class: text"}
  kind is "bool", "int" (byte, short, int, long and timestamp: botocore returns them all as
  int), "string", or "bytes" (byte arrays and uuids: botocore returns them both as bytes, hex).
"""
import json
import sys

from botocore.eventstream import EventStreamBuffer, ParserError

data = open(sys.argv[1], "rb").read()
byte_by_byte = "--byte-by-byte" in sys.argv[2:]

buffer = EventStreamBuffer()
messages = []
error = None


def describe(value):
    if isinstance(value, bool):
        return ["bool", value]
    if isinstance(value, int):
        return ["int", value]
    if isinstance(value, str):
        return ["string", value]
    return ["bytes", bytes(value).hex()]


try:
    pieces = [data[i:i + 1] for i in range(len(data))] if byte_by_byte else [data]
    for piece in pieces:
        buffer.add_data(piece)
        for message in buffer:
            messages.append({
                "headers": [[name] + describe(value) for name, value in message.headers.items()],
                "payload": bytes(message.payload).hex(),
            })
except ParserError as e:
    error = f"{type(e).__name__}: {e}"

print(json.dumps({"messages": messages, "error": error}))
