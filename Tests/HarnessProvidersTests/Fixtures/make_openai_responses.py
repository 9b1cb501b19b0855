# Writes the OpenAI Responses fixtures (openai-responses-*.sse, *.json) from the event shapes
# in OpenAI's API reference (platform.openai.com/docs/api-reference/responses-streaming).
# OpenAISpecTests validates every event against the OpenAPI spec's ResponseStreamEvent.
import json

def sse(events):
    return "".join(f"event: {e['type']}\ndata: {json.dumps(e, separators=(',', ':'))}\n\n" for e in events)

def response(model, status, output, usage=None):
    r = {"id": "resp_67ccd2bed1ec8190b14f964abc0542670bb6a6b452d3795b", "object": "response",
         "created_at": 1741476542, "status": status, "error": None, "incomplete_details": None,
         "instructions": None, "model": model, "output": output, "parallel_tool_calls": True,
         "metadata": {}, "tool_choice": "auto", "tools": [], "temperature": 1.0, "top_p": 1.0}
    if usage: r["usage"] = usage
    return r

class Seq:
    def __init__(self): self.n = 0
    def __call__(self, t, **kw):
        d = {"type": t, "sequence_number": self.n}; d.update(kw); self.n += 1; return d

# 1. Text.
ev = Seq()
model = "gpt-4.1-2025-04-14"
msg = "msg_67ccd2bf17f0819081ff3bb2cf6508e60bb6a6b452d3795b"
parts = ["Hi", " there", "! How", " can I", " help", "?"]
full = "".join(parts)
text_part = {"type": "output_text", "text": full, "annotations": [], "logprobs": []}
message = {"id": msg, "type": "message", "status": "completed", "role": "assistant", "content": [text_part]}
events = [ev("response.created", response=response(model, "in_progress", [])),
          ev("response.in_progress", response=response(model, "in_progress", [])),
          ev("response.output_item.added", output_index=0, item={"id": msg, "type": "message", "status": "in_progress", "role": "assistant", "content": []}),
          ev("response.content_part.added", item_id=msg, output_index=0, content_index=0, part={"type": "output_text", "text": "", "annotations": [], "logprobs": []})]
events += [ev("response.output_text.delta", item_id=msg, output_index=0, content_index=0, delta=p, logprobs=[]) for p in parts]
events += [ev("response.output_text.done", item_id=msg, output_index=0, content_index=0, text=full, logprobs=[]),
           ev("response.content_part.done", item_id=msg, output_index=0, content_index=0, part=text_part),
           ev("response.output_item.done", output_index=0, item=message),
           ev("response.completed", response=response(model, "completed", [message], {
               "input_tokens": 37, "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
               "output_tokens": 11, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 48}))]
open("openai-responses-text.sse", "w").write(sse(events))

# 2. Two parallel function calls after a reasoning item, arguments interleaved; cached,
#    cache-write and reasoning tokens.
ev = Seq()
model = "o4-mini-2025-04-16"
rs = {"id": "rs_6876cf02e0bc8192b74af0fb64b715ff06fa2fcced15a5ac", "type": "reasoning", "summary": []}
calls = [("fc_6876cf05a4c88192a37ef1d7b3e60c2506fa2fcced15a5ac", "call_Kq5hPq4fI5zaGWhtBm1D3q0t", "get_weather", ['{"', 'city', '":"', 'Paris', '"}']),
         ("fc_6876cf05b2e48192be08a41d9b7e7c0806fa2fcced15a5ac", "call_jL6Ba2d7CkqJYhBuLn0H9MwE", "get_weather", ['{"city"', ':"Ro', 'me"}'])]
events = [ev("response.created", response=response(model, "in_progress", [])),
          ev("response.in_progress", response=response(model, "in_progress", [])),
          ev("response.output_item.added", output_index=0, item=rs),
          ev("response.output_item.done", output_index=0, item=rs)]
outputs = [rs]
for i, (iid, cid, name, _) in enumerate(calls):
    events.append(ev("response.output_item.added", output_index=i + 1, item={"id": iid, "type": "function_call", "status": "in_progress", "arguments": "", "call_id": cid, "name": name}))
for j in range(max(len(c[3]) for c in calls)):
    for i, (iid, _, _, fragments) in enumerate(calls):
        if j < len(fragments):
            events.append(ev("response.function_call_arguments.delta", item_id=iid, output_index=i + 1, delta=fragments[j]))
for i, (iid, cid, name, fragments) in enumerate(calls):
    args = "".join(fragments)
    events.append(ev("response.function_call_arguments.done", item_id=iid, output_index=i + 1, name=name, arguments=args))
    item = {"id": iid, "type": "function_call", "status": "completed", "arguments": args, "call_id": cid, "name": name}
    events.append(ev("response.output_item.done", output_index=i + 1, item=item))
    outputs.append(item)
usage = {"input_tokens": 2200, "input_tokens_details": {"cached_tokens": 1920, "cache_write_tokens": 128},
         "output_tokens": 410, "output_tokens_details": {"reasoning_tokens": 384}, "total_tokens": 2610}
done = response(model, "completed", outputs, usage)
events.append(ev("response.completed", response=done))
open("openai-responses-parallel-tools.sse", "w").write(sse(events))
open("openai-responses-parallel-tools.json", "w").write(json.dumps(done, indent=1) + "\n")
