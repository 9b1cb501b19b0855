#!/usr/bin/env python3
"""Compare per-iteration orchestration overhead: Harness vs. Python agent frameworks.

Every framework plays the same scripted, fully local conversation:

* one tool, ``lookup``, taking ``{"key": string}`` and returning ``"value-" + key``;
* a scripted model that, on model calls 1..9, answers with exactly one tool call to
  ``lookup`` with arguments ``{"key": "k<i>"}`` and call id ``call_<i>``, and on call 10
  answers the final text ``"done"``.

One run is therefore 10 iterations (10 model calls, 9 tool executions). The model and the
tool do no real work, so the measured wall time is the framework's own orchestration
overhead: message/history bookkeeping, tool-call parsing and argument validation, tool
dispatch, usage accounting, hooks, and so on.

Each run is checked (model calls, tool calls, final output) so an empty or short-circuited
run can never be timed by mistake.

Frameworks measured here:

* Pydantic AI (``pydantic-ai-slim``) with ``pydantic_ai.models.function.FunctionModel``;
* OpenAI Agents SDK (``openai-agents``) with a custom ``agents.models.interface.Model``;
* Harness, by running its own ``bench-loop`` command and parsing its JSON line.

Usage: compare_frameworks.py [--runs N] [--warmup N] [--skip-harness]
                             [--harness-cmd CMD] [--json]
Normally invoked through compare-frameworks.sh, which prepares the virtualenv.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

# The conversation shape shared by every framework.
ITERATIONS = 10  # model calls per run
TOOL_CALLS = ITERATIONS - 1  # tool executions per run
FINAL_TEXT = "done"
PROMPT = "Look up the keys."

SCRIPT_DIR = Path(__file__).resolve().parent
REPO_ROOT = SCRIPT_DIR.parent
DEFAULT_HARNESS_CMD = (
    f"{REPO_ROOT / '.build' / 'release' / 'harness'} bench-loop --iterations {ITERATIONS} --runs 2000 --json"
)


def lookup_value(key: str) -> str:
    """The tool body shared by every framework."""
    return "value-" + key


@dataclass
class Counters:
    """Per-run counters incremented by the scripted model and the tool."""

    model_calls: int = 0
    tool_calls: int = 0
    # Model calls 2..10 must see the previous call's tool result; counts those that did not.
    missing_results: int = 0

    def reset(self) -> None:
        self.model_calls = 0
        self.tool_calls = 0
        self.missing_results = 0


class ScriptViolation(AssertionError):
    """A run did not play the whole scripted conversation."""


def check_run(name: str, counters: Counters, output: object, reported_requests: int, reported_tool_calls: int) -> None:
    """Fail loudly if a run did not play the whole script.

    Checks our own counters (incremented in the scripted model and the tool), the framework's
    own accounting of the run (`reported_*`), the tool-result round trip and the final output.
    Explicit raises rather than `assert`, so the checks survive `python -O` / PYTHONOPTIMIZE.
    """
    if (reported_requests, reported_tool_calls) != (ITERATIONS, TOOL_CALLS):
        raise ScriptViolation(
            f"{name}: framework reports {reported_requests} requests / {reported_tool_calls} tool calls, "
            f"expected {ITERATIONS} / {TOOL_CALLS}"
        )
    if counters.model_calls != ITERATIONS:
        raise ScriptViolation(f"{name}: {counters.model_calls} model calls, expected {ITERATIONS}")
    if counters.tool_calls != TOOL_CALLS:
        raise ScriptViolation(f"{name}: {counters.tool_calls} tool calls, expected {TOOL_CALLS}")
    if counters.missing_results:
        raise ScriptViolation(f"{name}: {counters.missing_results} model calls did not see the previous tool result")
    if output != FINAL_TEXT:
        raise ScriptViolation(f"{name}: final output {output!r}, expected {FINAL_TEXT!r}")


# --------------------------------------------------------------------------------------
# Pydantic AI
# --------------------------------------------------------------------------------------


def make_pydantic_ai() -> Callable[[], Awaitable[object]]:
    """Build a Pydantic AI agent on a scripted FunctionModel; return a coroutine factory for one run."""
    from pydantic_ai import Agent
    from pydantic_ai.messages import ModelMessage, ModelRequest, ModelResponse, TextPart, ToolCallPart, ToolReturnPart
    from pydantic_ai.models.function import AgentInfo, FunctionModel
    from pydantic_ai.usage import RequestUsage

    counters = Counters()

    # `async def` matters: FunctionModel sends a plain `def` function to a thread pool
    # (run_in_executor), which would add a thread hop per model call.
    async def scripted_model(messages: list[ModelMessage], info: AgentInfo) -> ModelResponse:
        counters.model_calls += 1
        # The call number is derived from the history (one ModelResponse per earlier call),
        # so the same model object is deterministic across runs.
        call = 1 + sum(isinstance(m, ModelResponse) for m in messages)
        if call > 1:
            # The last request must carry the previous call's tool result.
            last = messages[-1]
            if not (
                isinstance(last, ModelRequest)
                and any(
                    isinstance(p, ToolReturnPart)
                    and p.tool_call_id == f"call_{call - 1}"
                    and p.content == lookup_value(f"k{call - 1}")
                    for p in last.parts
                )
            ):
                counters.missing_results += 1
        # Report token usage like a real provider would. Without it, FunctionModel estimates
        # usage by walking the whole history each call: test-double work, not orchestration.
        usage = RequestUsage(input_tokens=1, output_tokens=1)
        if call < ITERATIONS:
            return ModelResponse(
                parts=[ToolCallPart(tool_name="lookup", args={"key": f"k{call}"}, tool_call_id=f"call_{call}")],
                usage=usage,
            )
        return ModelResponse(parts=[TextPart(content=FINAL_TEXT)], usage=usage)

    agent = Agent(FunctionModel(scripted_model))

    # A plain tool (no RunContext). `async def` for the same reason as above: Pydantic AI
    # runs a sync tool function in a worker thread.
    @agent.tool_plain
    async def lookup(key: str) -> str:
        """Look up a key."""
        counters.tool_calls += 1
        return lookup_value(key)

    async def run_once() -> None:
        counters.reset()
        result = await agent.run(PROMPT)
        usage = result.usage  # a property in pydantic-ai 2.x (a method in 1.x)
        check_run("pydantic-ai", counters, result.output, usage.requests, usage.tool_calls)

    return run_once


# --------------------------------------------------------------------------------------
# OpenAI Agents SDK
# --------------------------------------------------------------------------------------


def make_openai_agents() -> Callable[[], Awaitable[object]]:
    """Build an OpenAI Agents SDK agent on a scripted custom Model; return a coroutine factory for one run."""
    # The SDK builds a default OpenAI client lazily; a dummy key keeps anything that checks for
    # one quiet. Nothing here reaches the network (custom model, tracing disabled).
    os.environ.setdefault("OPENAI_API_KEY", "sk-dummy-not-used")

    from agents import Agent, RunConfig, Runner, function_tool, set_tracing_disabled
    from agents.items import ModelResponse, ToolCallOutputItem
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

    # No trace exporter: there is no network, and tracing is not orchestration.
    set_tracing_disabled(True)

    counters = Counters()

    class ScriptedModel(Model):
        async def get_response(
            self,
            system_instructions,
            input,
            model_settings,
            tools,
            output_schema,
            handoffs,
            tracing,
            *,
            previous_response_id=None,
            conversation_id=None,
            prompt=None,
        ) -> ModelResponse:
            counters.model_calls += 1
            # The call number is derived from the input items (one function_call_output per
            # earlier tool call), so the same model object is deterministic across runs.
            items = [] if isinstance(input, str) else input
            call = 1 + sum(1 for item in items if item.get("type") == "function_call_output")
            if call > 1:
                # The last input item must be the previous call's tool result.
                last = items[-1]
                if not (
                    last.get("type") == "function_call_output"
                    and last.get("call_id") == f"call_{call - 1}"
                    and last.get("output") == lookup_value(f"k{call - 1}")
                ):
                    counters.missing_results += 1
            if call < ITERATIONS:
                output = [
                    ResponseFunctionToolCall(
                        type="function_call",
                        name="lookup",
                        arguments=json.dumps({"key": f"k{call}"}),
                        call_id=f"call_{call}",
                        id=f"fc_{call}",
                        status="completed",
                    )
                ]
            else:
                output = [
                    ResponseOutputMessage(
                        type="message",
                        id=f"msg_{call}",
                        role="assistant",
                        status="completed",
                        content=[ResponseOutputText(type="output_text", text=FINAL_TEXT, annotations=[])],
                    )
                ]
            # Token usage as a real provider would report it (same figures as the Pydantic AI model).
            usage = Usage(requests=1, input_tokens=1, output_tokens=1, total_tokens=2)
            return ModelResponse(output=output, usage=usage, response_id=None)

        def stream_response(self, *args, **kwargs):
            raise NotImplementedError("the benchmark only uses non-streamed runs")

    # `async def`: the SDK runs a sync function tool via asyncio.to_thread.
    @function_tool
    async def lookup(key: str) -> str:
        """Look up a key."""
        counters.tool_calls += 1
        return lookup_value(key)

    model = ScriptedModel()
    agent = Agent(name="bench", instructions="Look up keys.", tools=[lookup])
    run_config = RunConfig(model=model, tracing_disabled=True)

    async def run_once() -> None:
        counters.reset()
        # max_turns defaults to 10, which is exactly this script; set it explicitly with a
        # margin of one so a limit change in the SDK cannot make the benchmark fail spuriously.
        result = await Runner.run(agent, PROMPT, run_config=run_config, max_turns=ITERATIONS + 1)
        tool_outputs = sum(isinstance(item, ToolCallOutputItem) for item in result.new_items)
        check_run("openai-agents", counters, result.final_output, result.context_wrapper.usage.requests, tool_outputs)

    return run_once


# --------------------------------------------------------------------------------------
# Measurement
# --------------------------------------------------------------------------------------


@dataclass
class Result:
    framework: str
    package: str
    version: str
    per_iteration_us_median: float
    per_iteration_us_p90: float
    runs: int
    iterations: int = ITERATIONS


def percentile(sorted_values: list[int], q: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    index = max(0, min(len(sorted_values) - 1, round(q * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[index])


async def measure(run_once: Callable[[], Awaitable[object]], runs: int, warmup: int) -> tuple[float, float]:
    """Time `runs` runs after `warmup` runs; return (median, p90) per-iteration time in µs."""
    for _ in range(warmup):
        await run_once()
    # Collect garbage left by setup/warm-up, then time each run individually. The GC stays
    # enabled: collecting what a run allocates is part of a Python framework's real cost.
    gc.collect()
    durations: list[int] = []
    for _ in range(runs):
        start = time.perf_counter_ns()
        await run_once()
        durations.append(time.perf_counter_ns() - start)
    durations.sort()
    ns_per_us = 1_000
    median = statistics.median(durations) / ITERATIONS / ns_per_us
    p90 = percentile(durations, 0.90) / ITERATIONS / ns_per_us
    return median, p90


def package_version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def run_harness(cmd: str) -> Result:
    """Run Harness's own bench-loop command and parse the JSON object it prints."""
    argv = shlex.split(cmd)
    binary = Path(argv[0])
    if not binary.is_absolute() and os.sep in argv[0]:
        binary = REPO_ROOT / binary  # relative paths are relative to the repository root
        argv[0] = str(binary)
    if os.sep in argv[0] and not binary.exists():
        print(
            f"error: Harness binary not found at {binary}\n"
            f"Build it first:  (cd {REPO_ROOT} && swift build -c release --product harness)\n"
            "or pass --skip-harness to report only the Python frameworks.",
            file=sys.stderr,
        )
        sys.exit(1)
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, cwd=REPO_ROOT)
    except FileNotFoundError:
        print(f"error: cannot run `{argv[0]}`; build Harness with "
              "`swift build -c release --product harness` or pass --skip-harness.", file=sys.stderr)
        sys.exit(1)
    if proc.returncode != 0:
        print(f"error: `{cmd}` exited with {proc.returncode}\n{proc.stderr}", file=sys.stderr)
        sys.exit(1)
    # The command prints one JSON object; take the last line that parses as one, so any
    # stray log line before it does not break parsing.
    data = None
    for line in reversed(proc.stdout.strip().splitlines()):
        try:
            data = json.loads(line)
            break
        except json.JSONDecodeError:
            continue
    if not isinstance(data, dict) or "per_iteration_us_median" not in data:
        print(f"error: could not parse Harness JSON from:\n{proc.stdout}", file=sys.stderr)
        sys.exit(1)
    iterations = int(data.get("iterations", ITERATIONS))
    if iterations != ITERATIONS:
        print(f"warning: Harness ran {iterations} iterations per run, the Python runs use {ITERATIONS}", file=sys.stderr)
    return Result(
        framework=data.get("framework", "harness"),
        package="harness",
        version=data.get("version", "local build"),
        per_iteration_us_median=float(data["per_iteration_us_median"]),
        per_iteration_us_p90=float(data.get("per_iteration_us_p90", float("nan"))),
        runs=int(data.get("runs", 0)),
        iterations=iterations,
    )


FRAMEWORKS: list[tuple[str, str, Callable[[], Callable[[], Awaitable[object]]]]] = [
    ("pydantic-ai", "pydantic-ai-slim", make_pydantic_ai),
    ("openai-agents", "openai-agents", make_openai_agents),
]


async def measure_python(runs: int, warmup: int) -> list[Result]:
    results = []
    for name, dist, factory in FRAMEWORKS:
        run_once = factory()
        median, p90 = await measure(run_once, runs, warmup)
        results.append(Result(name, dist, package_version(dist), median, p90, runs))
    return results


def print_table(results: list[Result], harness: Result | None) -> None:
    rows = ([harness] if harness else []) + results
    header = ("framework", "package", "version", "median µs/iter", "p90 µs/iter", "runs")
    table = [header] + [
        (
            r.framework,
            r.package,
            r.version,
            f"{r.per_iteration_us_median:.2f}",
            f"{r.per_iteration_us_p90:.2f}",
            str(r.runs),
        )
        for r in rows
    ]
    widths = [max(len(row[i]) for row in table) for i in range(len(header))]
    for i, row in enumerate(table):
        print("  ".join(cell.ljust(w) if j < 3 else cell.rjust(w) for j, (cell, w) in enumerate(zip(row, widths))))
        if i == 0:
            print("  ".join("-" * w for w in widths))
    print(f"\n{ITERATIONS} iterations per run ({ITERATIONS} model calls, {TOOL_CALLS} tool calls); "
          f"per-iteration = run wall time / {ITERATIONS}.")
    if harness and harness.per_iteration_us_median > 0:
        print()
        for r in results:
            ratio = r.per_iteration_us_median / harness.per_iteration_us_median
            if ratio >= 1:
                print(f"Harness is {ratio:.1f}× less overhead than {r.framework} ({r.package} {r.version}).")
            else:
                print(f"{r.framework} ({r.package} {r.version}) is {1 / ratio:.1f}× less overhead than Harness.")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=300, help="measured runs per Python framework (default 300)")
    parser.add_argument("--warmup", type=int, default=20, help="warm-up runs per Python framework (default 20)")
    parser.add_argument("--harness-cmd", default=DEFAULT_HARNESS_CMD,
                        help="command printing Harness's JSON result (default: %(default)s)")
    parser.add_argument("--skip-harness", action="store_true", help="report only the Python frameworks")
    parser.add_argument("--json", action="store_true", help="print machine-readable JSON instead of a table")
    args = parser.parse_args()
    if args.runs < 1 or args.warmup < 0:
        parser.error("--runs must be >= 1 and --warmup >= 0")

    # Harness first: fail fast (before minutes of Python runs) if its binary is missing.
    harness = None if args.skip_harness else run_harness(args.harness_cmd)

    # One event loop for every run of every framework, so loop creation is not timed.
    results = asyncio.run(measure_python(args.runs, args.warmup))

    if args.json:
        payload = {
            "python": platform.python_version(),
            "cpu_count": os.cpu_count(),
            "iterations": ITERATIONS,
            "tool_calls": TOOL_CALLS,
            "harness": asdict(harness) if harness else None,
            "frameworks": [asdict(r) for r in results],
            "ratio_to_harness": (
                {r.framework: r.per_iteration_us_median / harness.per_iteration_us_median for r in results}
                if harness and harness.per_iteration_us_median > 0 else None
            ),
        }
        print(json.dumps(payload, indent=2))
    else:
        print(f"Python {platform.python_version()} on {platform.machine()}, {os.cpu_count()} CPU(s)\n")
        print_table(results, harness)


if __name__ == "__main__":
    main()
