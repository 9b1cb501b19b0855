#!/usr/bin/env python3
"""A tiny OTLP/HTTP receiver for tests: decodes what an exporter POSTs and writes it as JSON lines.

    otel-receiver.py OUTPUT [--port-file PATH] [--exit-on-stdin-eof]

Listens on 127.0.0.1 (a free port, written to --port-file, or printed as the first line of
stdout). POST /v1/traces bodies are decoded as ExportTraceServiceRequest (protobuf, gzip or
not): one line per span, {"signal": "span", "name", "trace_id", "span_id", "parent_span_id",
"kind", "status", "attributes", "resource"}. POST /v1/metrics bodies are decoded as
ExportMetricsServiceRequest: one line per metric, {"signal": "metric", "name", "points"}.
Each request also records its headers in a line {"signal": "request", "path", "headers"}.
With --exit-on-stdin-eof it exits when its standard input closes (its parent went away).
"""

import gzip
import json
import os
import signal
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

LOCK = threading.Lock()


def any_value(value):
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return [any_value(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    if kind == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, kind)


def attributes(kvs):
    return {kv.key: any_value(kv.value) for kv in kvs}


def spans(request):
    for resource_spans in request.resource_spans:
        resource = attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                yield {
                    "signal": "span",
                    "name": span.name,
                    "trace_id": span.trace_id.hex(),
                    "span_id": span.span_id.hex(),
                    "parent_span_id": span.parent_span_id.hex(),
                    "kind": span.kind,
                    "status": span.status.code,
                    "attributes": attributes(span.attributes),
                    "resource": resource,
                }


def metrics(request):
    for resource_metrics in request.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                data = metric.WhichOneof("data")
                points = []
                if data in ("sum", "gauge"):
                    for p in getattr(metric, data).data_points:
                        v = p.as_double if p.WhichOneof("value") == "as_double" else p.as_int
                        points.append({"attributes": attributes(p.attributes), "value": v})
                elif data == "histogram":
                    for p in metric.histogram.data_points:
                        points.append({"attributes": attributes(p.attributes), "count": p.count})
                yield {"signal": "metric", "name": metric.name, "type": data, "points": points}


class Handler(BaseHTTPRequestHandler):
    output = None

    def log_message(self, *args):
        pass

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", "0")))
        if self.headers.get("content-encoding", "") == "gzip":
            body = gzip.decompress(body)
        lines = [{"signal": "request", "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}}]
        try:
            if self.path == "/v1/traces":
                request = trace_service_pb2.ExportTraceServiceRequest()
                request.ParseFromString(body)
                lines += list(spans(request))
                reply = trace_service_pb2.ExportTraceServiceResponse().SerializeToString()
            elif self.path == "/v1/metrics":
                request = metrics_service_pb2.ExportMetricsServiceRequest()
                request.ParseFromString(body)
                lines += list(metrics(request))
                reply = metrics_service_pb2.ExportMetricsServiceResponse().SerializeToString()
            else:
                self.send_response(404)
                self.end_headers()
                return
        except Exception as error:  # a body that does not decode is a failed test, said loudly
            lines.append({"signal": "error", "path": self.path, "error": repr(error)})
            self.send_response(400)
            self.end_headers()
            self.write(lines)
            return
        self.write(lines)
        self.send_response(200)
        self.send_header("content-type", "application/x-protobuf")
        self.send_header("content-length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    def write(self, lines):
        with LOCK, open(self.output, "a", encoding="utf-8") as f:
            for line in lines:
                f.write(json.dumps(line, sort_keys=True) + "\n")


def main():
    # A parent may have spawned us with signals blocked; termination must work.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    args = sys.argv[1:]
    if not args:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    Handler.output = args[0]
    port_file = args[args.index("--port-file") + 1] if "--port-file" in args else None
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port = server.server_address[1]
    if port_file:
        with open(port_file + ".tmp", "w") as f:
            f.write(str(port))
        os.replace(port_file + ".tmp", port_file)
    else:
        print(port, flush=True)
    if "--exit-on-stdin-eof" in args:
        def watch():
            while sys.stdin.buffer.read(1024):
                pass
            os._exit(0)
        threading.Thread(target=watch, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
