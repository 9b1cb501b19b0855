"""Runs the official `openai` and `anthropic` Python SDKs, unmodified, against live
`harness serve` instances backed by the scripted model.

Usage: python sdk_test.py path/to/harness

Instance A serves the scripted model with virtual keys required (admin key from the
environment). Instance B serves models whose routes point at A: `relay-openai` through A's
OpenAI format and `relay-anthropic` through A's Anthropic format, so an Anthropic client
reaches an OpenAI-format provider and the reverse. Every check prints ok/FAIL; the exit code
is the number of failures.
"""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.request
from typing import Literal

import anthropic
import openai
from pydantic import BaseModel

HARNESS = os.path.abspath(sys.argv[1])
WORK = tempfile.mkdtemp(prefix="harness-sdk-")
ADMIN = "admin-" + os.urandom(8).hex()
FAILURES = []
PROCS = []


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start(name, config_text, env_extra):
    path = os.path.join(WORK, f"{name}.yaml")
    with open(path, "w") as f:
        f.write(config_text)
    port_file = os.path.join(WORK, f"{name}.port")
    log = open(os.path.join(WORK, f"{name}.log"), "w")
    env = dict(os.environ, **env_extra)
    proc = subprocess.Popen(
        [HARNESS, "serve", "--config", path, "--port", "0", "--port-file", port_file,
         "--storage", "sqlite:" + os.path.join(WORK, f"{name}.sqlite")],
        stdout=log, stderr=subprocess.STDOUT, env=env, cwd=WORK,
    )
    PROCS.append(proc)
    for _ in range(600):
        if os.path.exists(port_file) and open(port_file).read().strip():
            return int(open(port_file).read().strip()), proc
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: " + open(os.path.join(WORK, f"{name}.log")).read())
        time.sleep(0.05)
    raise RuntimeError(f"{name} did not start")


def admin(port, method, path, body=None):
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {ADMIN}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


def check(name, fn):
    try:
        fn()
        print(f"sdk-check: ok   {name}", flush=True)
    except Exception as e:  # noqa: BLE001 - report every failure and go on
        FAILURES.append(name)
        print(f"sdk-check: FAIL {name}: {type(e).__name__}: {e}", flush=True)
        traceback.print_exc(limit=3)


def expect_error(cls, fn, status, code=None):
    try:
        fn()
    except cls as e:
        assert e.status_code == status, f"status {e.status_code}, expected {status}"
        if code is not None:
            body = e.body if isinstance(e.body, dict) else {}
            got = body.get("code") or (body.get("error") or {}).get("code")
            assert got == code, f"code {got!r}, expected {code!r} (body {e.body})"
        return
    raise AssertionError(f"expected {cls.__name__}")


WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
TIME = {"type": "function", "function": {"name": "get_time", "description": "Local time in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}
A_WEATHER = {"name": "get_weather", "description": "Weather for a city",
             "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}


class Weather(BaseModel):
    city: str
    temp_c: float
    conditions: Literal["sunny", "cloudy", "rain"]


def main():
    pa, _ = start("a", """
server:
  auth: required
models:
  scripted:
    provider: scripted
agents:
  weather:
    model: scripted
    instructions: You answer questions about the weather.
    tools: [get_weather]
""", {"HARNESS_ADMIN_KEY": ADMIN})
    key = admin(pa, "POST", "/admin/keys", {"name": "sdk"})["key"]
    limited = admin(pa, "POST", "/admin/keys", {"name": "limited", "rpm": 1})["key"]
    broke = admin(pa, "POST", "/admin/keys", {"name": "broke", "budget_usd": 0})["key"]
    pb, _ = start("b", f"""
server:
  auth: disabled
models:
  relay-openai:
    provider: openai
    model: scripted
    base_url: http://127.0.0.1:{pa}/v1
    api_key_env: UPSTREAM_KEY
  relay-anthropic:
    provider: anthropic
    model: scripted
    base_url: http://127.0.0.1:{pa}
    api_key_env: UPSTREAM_KEY
""", {"UPSTREAM_KEY": key})

    oa = openai.OpenAI(base_url=f"http://127.0.0.1:{pa}/v1", api_key=key, max_retries=0)
    an = anthropic.Anthropic(base_url=f"http://127.0.0.1:{pa}", api_key=key, max_retries=0)

    # --- OpenAI SDK -------------------------------------------------------------------
    def chat():
        r = oa.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "Hello"}])
        assert r.choices[0].message.content == "You said: Hello", r
        assert r.choices[0].finish_reason == "stop"
        assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens
        assert r.id.startswith("chatcmpl-") and r.model == "scripted"
    check("openai: chat completion", chat)

    def chat_stream():
        chunks = list(oa.chat.completions.create(
            model="scripted", messages=[{"role": "user", "content": "Hello there, gateway"}],
            stream=True, stream_options={"include_usage": True}))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "You said: Hello there, gateway", text
        assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)
        assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens > 0
    check("openai: streaming with usage", chat_stream)

    def tools_round_trip():
        msgs = [{"role": "user", "content": "Weather and time in Paris?"}]
        r = oa.chat.completions.create(model="scripted", messages=msgs, tools=[WEATHER, TIME])
        calls = r.choices[0].message.tool_calls
        assert r.choices[0].finish_reason == "tool_calls"
        assert [c.function.name for c in calls] == ["get_weather", "get_time"], calls
        assert json.loads(calls[0].function.arguments) == {"city": "Paris"}
        msgs.append(r.choices[0].message.model_dump(exclude_none=True))
        for c in calls:
            msgs.append({"role": "tool", "tool_call_id": c.id, "content": f"{c.function.name} ok"})
        r2 = oa.chat.completions.create(model="scripted", messages=msgs, tools=[WEATHER, TIME])
        assert r2.choices[0].finish_reason == "stop"
        assert "get_weather returned get_weather ok" in r2.choices[0].message.content, r2.choices[0].message.content
    check("openai: parallel tool calls round trip", tools_round_trip)

    def tools_stream():
        with oa.chat.completions.stream(model="scripted", messages=[{"role": "user", "content": "Paris?"}],
                                        tools=[WEATHER, TIME]) as s:
            final = s.get_final_completion()
        calls = final.choices[0].message.tool_calls
        assert len(calls) == 2 and json.loads(calls[1].function.arguments) == {"city": "Paris"}, calls
    check("openai: streamed tool calls (SDK stream helper)", tools_stream)

    def tool_choice():
        r = oa.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "x"}], tools=[WEATHER, TIME],
                                       tool_choice={"type": "function", "function": {"name": "get_time"}})
        assert [c.function.name for c in r.choices[0].message.tool_calls] == ["get_time"]
    check("openai: tool_choice names one function", tool_choice)

    def structured():
        r = oa.chat.completions.parse(model="scripted", messages=[{"role": "user", "content": "Weather in Paris as JSON"}],
                                      response_format=Weather)
        w = r.choices[0].message.parsed
        assert isinstance(w, Weather) and w.city == "Paris" and w.conditions == "sunny", w
    check("openai: structured output (json_schema via .parse)", structured)

    def json_object():
        r = oa.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "hi"}],
                                       response_format={"type": "json_object"})
        assert json.loads(r.choices[0].message.content) == {"answer": "hi"}
    check("openai: json_object", json_object)

    def stop_and_max_tokens():
        r = oa.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "one two three four"}],
                                       max_tokens=3, seed=7, n=1)
        assert r.choices[0].finish_reason == "length" and r.choices[0].message.content == "You said: one"
        r = oa.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "alpha STOP beta"}], stop=["STOP"])
        assert r.choices[0].message.content == "You said: alpha ", repr(r.choices[0].message.content)
    check("openai: stop, max_tokens, seed, n=1", stop_and_max_tokens)

    def models():
        assert "scripted" in [m.id for m in oa.models.list()]
    check("openai: models.list", models)

    def embeddings():
        r = oa.embeddings.create(model="scripted", input=["the weather in Paris", "the weather in Oslo"])
        assert len(r.data) == 2 and len(r.data[0].embedding) == 64
        assert abs(sum(x * x for x in r.data[0].embedding) - 1) < 1e-4
        f = oa.embeddings.create(model="scripted", input="hello", encoding_format="float")
        assert len(f.data[0].embedding) == 64
    check("openai: embeddings (base64 and float)", embeddings)

    def errors():
        expect_error(openai.BadRequestError, lambda: oa.chat.completions.create(
            model="scripted", messages=[{"role": "bot", "content": "x"}]), 400, "invalid_field")
        expect_error(openai.BadRequestError, lambda: oa.chat.completions.create(model="scripted", messages=[]), 400)
        expect_error(openai.NotFoundError, lambda: oa.chat.completions.create(
            model="no-such-model", messages=[{"role": "user", "content": "x"}]), 404, "model_not_found")
        bad = openai.OpenAI(base_url=f"http://127.0.0.1:{pa}/v1", api_key="hk-wrong", max_retries=0)
        expect_error(openai.AuthenticationError, lambda: bad.chat.completions.create(
            model="scripted", messages=[{"role": "user", "content": "x"}]), 401, "invalid_api_key")
        lim = openai.OpenAI(base_url=f"http://127.0.0.1:{pa}/v1", api_key=limited, max_retries=0)
        lim.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "x"}])
        expect_error(openai.RateLimitError, lambda: lim.chat.completions.create(
            model="scripted", messages=[{"role": "user", "content": "x"}]), 429, "rate_limit_exceeded")
        poor = openai.OpenAI(base_url=f"http://127.0.0.1:{pa}/v1", api_key=broke, max_retries=0)
        expect_error(openai.RateLimitError, lambda: poor.chat.completions.create(
            model="scripted", messages=[{"role": "user", "content": "x"}]), 429, "budget_exceeded")
    check("openai: SDK error classes for 400/404/401/429 (rate and budget)", errors)

    # --- Anthropic SDK ----------------------------------------------------------------
    def message():
        m = an.messages.create(model="scripted", max_tokens=100, messages=[{"role": "user", "content": "Hi"}],
                               system="Be brief.")
        assert m.content[0].type == "text" and m.content[0].text == "You said: Hi", m
        assert m.stop_reason == "end_turn" and m.usage.input_tokens > 0 and m.usage.output_tokens > 0
    check("anthropic: message", message)

    def message_stream():
        with an.messages.stream(model="scripted", max_tokens=100, messages=[{"role": "user", "content": "Hi there"}]) as s:
            text = "".join(s.text_stream)
            final = s.get_final_message()
        assert text == "You said: Hi there", text
        assert final.stop_reason == "end_turn" and final.usage.output_tokens > 0
    check("anthropic: streaming (full event sequence via SDK)", message_stream)

    def raw_events():
        events = [e.type for e in an.messages.create(model="scripted", max_tokens=50, stream=True,
                                                     messages=[{"role": "user", "content": "Hey"}])]
        assert events[0] == "message_start" and events[-1] == "message_stop", events
        for t in ["content_block_start", "content_block_delta", "content_block_stop", "message_delta"]:
            assert t in events, (t, events)
    check("anthropic: raw event types", raw_events)

    def anthropic_tools():
        msgs = [{"role": "user", "content": "Weather in Paris?"}]
        m = an.messages.create(model="scripted", max_tokens=200, messages=msgs, tools=[A_WEATHER])
        assert m.stop_reason == "tool_use"
        use = [b for b in m.content if b.type == "tool_use"][0]
        assert use.name == "get_weather" and use.input == {"city": "Paris"}, use
        msgs.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in m.content]})
        msgs.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "18 C"}]})
        m2 = an.messages.create(model="scripted", max_tokens=200, messages=msgs, tools=[A_WEATHER])
        assert m2.stop_reason == "end_turn" and "get_weather returned 18 C" in m2.content[0].text, m2
    check("anthropic: tool use round trip", anthropic_tools)

    def anthropic_tools_stream():
        with an.messages.stream(model="scripted", max_tokens=200, messages=[{"role": "user", "content": "Paris?"}],
                                tools=[A_WEATHER]) as s:
            final = s.get_final_message()
        use = [b for b in final.content if b.type == "tool_use"][0]
        assert use.input == {"city": "Paris"} and final.stop_reason == "tool_use", final
    check("anthropic: streamed tool use (input_json_delta)", anthropic_tools_stream)

    def anthropic_stop():
        m = an.messages.create(model="scripted", max_tokens=100, stop_sequences=["STOP"],
                               messages=[{"role": "user", "content": "a STOP b"}])
        assert m.content[0].text == "You said: a ", m
    check("anthropic: stop sequences", anthropic_stop)

    def anthropic_errors():
        expect_error(anthropic.BadRequestError, lambda: an.messages.create(
            model="scripted", max_tokens=10, messages=[{"role": "bot", "content": "x"}]), 400)
        expect_error(anthropic.NotFoundError, lambda: an.messages.create(
            model="nope", max_tokens=10, messages=[{"role": "user", "content": "x"}]), 404)
        bad = anthropic.Anthropic(base_url=f"http://127.0.0.1:{pa}", api_key="hk-wrong", max_retries=0)
        expect_error(anthropic.AuthenticationError, lambda: bad.messages.create(
            model="scripted", max_tokens=10, messages=[{"role": "user", "content": "x"}]), 401)
        poor = anthropic.Anthropic(base_url=f"http://127.0.0.1:{pa}", api_key=broke, max_retries=0)
        expect_error(anthropic.RateLimitError, lambda: poor.messages.create(
            model="scripted", max_tokens=10, messages=[{"role": "user", "content": "x"}]), 429)
    check("anthropic: SDK error classes for 400/404/401/429", anthropic_errors)

    # --- Cross-format through instance B --------------------------------------------
    ob = openai.OpenAI(base_url=f"http://127.0.0.1:{pb}/v1", api_key="unused", max_retries=0)
    ab = anthropic.Anthropic(base_url=f"http://127.0.0.1:{pb}", api_key="unused", max_retries=0)

    def cross_anthropic_to_openai():
        m = ab.messages.create(model="relay-openai", max_tokens=100, messages=[{"role": "user", "content": "Bonjour"}])
        assert m.content[0].text == "You said: Bonjour", m
        with ab.messages.stream(model="relay-openai", max_tokens=100, messages=[{"role": "user", "content": "Paris?"}],
                                tools=[A_WEATHER]) as s:
            final = s.get_final_message()
        use = [b for b in final.content if b.type == "tool_use"][0]
        assert use.input == {"city": "Paris"}, final
    check("cross-format: Anthropic client -> OpenAI-format provider route (stream + tools)", cross_anthropic_to_openai)

    def cross_openai_to_anthropic():
        r = ob.chat.completions.create(model="relay-anthropic", messages=[{"role": "user", "content": "Hola"}])
        assert r.choices[0].message.content == "You said: Hola", r
        chunks = list(ob.chat.completions.create(model="relay-anthropic", messages=[{"role": "user", "content": "Paris?"}],
                                                 tools=[WEATHER], stream=True))
        args = "".join(tc.function.arguments or "" for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or []))
        assert json.loads(args) == {"city": "Paris"}, args
    check("cross-format: OpenAI client -> Anthropic-format provider route (stream + tools)", cross_openai_to_anthropic)

    def relay_openai_to_openai():
        # Non-streamed OpenAI-format requests to a one-route OpenAI-compatible model take
        # instance B's relay (the event-loop path); the answers must be the same.
        r = ob.chat.completions.create(model="relay-openai", messages=[{"role": "user", "content": "Hallo"}])
        assert r.choices[0].message.content == "You said: Hallo", r
        assert r.model == "relay-openai" and r.id.startswith("chatcmpl-"), r
        assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens > 0, r.usage
        msgs = [{"role": "user", "content": "Weather and time in Paris?"}]
        r = ob.chat.completions.create(model="relay-openai", messages=msgs, tools=[WEATHER, TIME])
        calls = r.choices[0].message.tool_calls
        assert [c.function.name for c in calls] == ["get_weather", "get_time"], calls
        msgs.append(r.choices[0].message.model_dump(exclude_none=True))
        for c in calls:
            msgs.append({"role": "tool", "tool_call_id": c.id, "content": f"{c.function.name} ok"})
        r2 = ob.chat.completions.create(model="relay-openai", messages=msgs, tools=[WEATHER, TIME])
        assert "get_weather returned get_weather ok" in r2.choices[0].message.content, r2
        p = ob.chat.completions.parse(model="relay-openai", messages=[{"role": "user", "content": "Weather in Paris as JSON"}],
                                      response_format=Weather)
        assert p.choices[0].message.parsed.city == "Paris", p
        text = urllib.request.urlopen(f"http://127.0.0.1:{pb}/metrics").read().decode()
        served = [l for l in text.splitlines() if l.startswith('harness_relay_requests_total{outcome="served"}')]
        assert served and float(served[0].split()[-1]) >= 4, served
    check("relay: OpenAI client -> OpenAI-format route, non-streamed (chat, tools, structured), on the event-loop path", relay_openai_to_openai)

    def relay_openai_streams():
        # Streamed requests take the relay too: the SDK's stream helpers read its events.
        def served():
            text = urllib.request.urlopen(f"http://127.0.0.1:{pb}/metrics").read().decode()
            lines = [l for l in text.splitlines() if l.startswith('harness_relay_requests_total{outcome="served"}')]
            return float(lines[0].split()[-1]) if lines else 0
        before = served()
        chunks = list(ob.chat.completions.create(model="relay-openai", messages=[{"role": "user", "content": "Hallo"}],
                                                 stream=True, stream_options={"include_usage": True}))
        text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        assert text == "You said: Hallo", text
        assert all(c.model == "relay-openai" and c.id == chunks[0].id for c in chunks), chunks
        assert chunks[-1].usage and chunks[-1].usage.total_tokens > 0, chunks[-1]
        plain = list(ob.chat.completions.create(model="relay-openai", messages=[{"role": "user", "content": "Hallo"}], stream=True))
        assert all(c.usage is None for c in plain), plain[-1]
        with ob.chat.completions.stream(model="relay-openai", messages=[{"role": "user", "content": "Weather and time in Paris?"}],
                                        tools=[WEATHER, TIME]) as s:
            final = s.get_final_completion()
        calls = final.choices[0].message.tool_calls
        assert [c.function.name for c in calls] == ["get_weather", "get_time"], calls
        assert json.loads(calls[0].function.arguments) == {"city": "Paris"}, calls
        assert served() >= before + 3, (before, served())
    check("relay: OpenAI client -> OpenAI-format route, streamed (chat, usage, tools), on the event-loop path", relay_openai_streams)

    # --- Agents, usage, metrics -------------------------------------------------------
    def agent_run():
        req = urllib.request.Request(f"http://127.0.0.1:{pa}/v1/agents/weather/runs", method="POST",
                                     data=json.dumps({"input": "Weather in Paris?"}).encode(),
                                     headers={"Authorization": f"Bearer {key}", "content-type": "application/json"})
        with urllib.request.urlopen(req) as r:
            result = json.loads(r.read())
        assert result["stop_reason"] == "completed" and result["iterations"] == 2, result
        assert result["tool_calls"][0]["name"] == "get_weather" and "cloudy" in result["tool_calls"][0]["result"], result
        assert "cloudy" in result["final_text"], result
    check("agents: server-side tool loop", agent_run)

    def usage_recorded():
        usage = admin(pa, "GET", "/admin/usage")
        by_model = {row["group"]: row for row in usage["by_model"]}
        assert by_model["scripted"]["requests"] >= 10, usage
    check("usage ledger records the served requests", usage_recorded)

    def metrics():
        text = urllib.request.urlopen(f"http://127.0.0.1:{pa}/metrics").read().decode()
        assert 'harness_http_requests_total{endpoint="chat_completions",status="200"}' in text
        promtool = shutil.which("promtool")
        assert promtool, "promtool not found (Debian package prometheus)"
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True)
        assert p.returncode == 0, p.stdout + p.stderr
    check("/metrics accepted by promtool check metrics", metrics)


try:
    main()
except Exception:  # noqa: BLE001
    traceback.print_exc()
    FAILURES.append("setup")
finally:
    for p in PROCS:
        p.terminate()
    for p in PROCS:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    if FAILURES:
        for name in ("a", "b"):
            path = os.path.join(WORK, f"{name}.log")
            if os.path.exists(path):
                print(f"--- {name}.log (tail)")
                print("".join(open(path).readlines()[-20:]))
    shutil.rmtree(WORK, ignore_errors=True)
print(f"sdk-check: {'FAILED ' + str(len(FAILURES)) if FAILURES else 'all passed'}")
sys.exit(len(FAILURES))
