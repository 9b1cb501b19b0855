#!/bin/bash
# Gateway overhead with wrk: a fixed upstream answer from nginx (../shared/peers/nginx-upstream.conf)
# requested (a) directly, (b) through nginx as a reverse proxy (proxy_pass, keepalive upstream),
# (c) through `harness serve` (release build, an OpenAI-compatible route to nginx, a virtual key
# checked on every request, usage recorded), and (d) through a LiteLLM proxy (same upstream,
# master key), each at 1 and 32 connections, non-streaming and streaming. Prints one line per
# run and a summary with the added latency and the ratios; also harness's idle and loaded RSS.
# Env: DUR=15s CONNS="1 32" MODES="json sse" TARGETS="nginx proxy harness litellm" HARNESS=path
# Needs: nginx-light, wrk (Debian), LiteLLM in .build-peers/venv-litellm (scripts/litellm-check.sh installs it).
set -u
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PEERS="$ROOT/../shared/peers"
DUR="${DUR:-15s}"; CONNS="${CONNS:-1 32}"; MODES="${MODES:-json sse}"; TARGETS="${TARGETS:-nginx proxy harness litellm}"
RUN="$ROOT/.build-peers/run/bench-$$"; mkdir -p "$RUN/nginx/logs" "$RUN/nginx/tmp" "$RUN/proxy/logs"
HARNESS="${HARNESS:-}"
if [ -z "$HARNESS" ]; then
  (cd "$ROOT" && swift build -c release --product harness 2>&1 | tail -1)
  HARNESS="$ROOT/.build/release/harness"
fi
for tool in nginx wrk; do command -v $tool >/dev/null || { echo "gateway-bench: $tool not found (apt-get install nginx-light wrk)"; exit 1; }; done
HPORT=18100; LPORT=4011
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null; done
  [ -f "$RUN/nginx/nginx.pid" ] && kill -QUIT "$(cat "$RUN/nginx/nginx.pid")" 2>/dev/null
  [ -f "$RUN/proxy/nginx.pid" ] && kill -QUIT "$(cat "$RUN/proxy/nginx.pid")" 2>/dev/null
  PORT=$LPORT NAME=litellm-gw-bench VENV="$ROOT/.build-peers/venv-litellm" "$PEERS/litellm-mock.sh" stop >/dev/null 2>&1
  sleep 0.5; rm -rf "$RUN"
}
trap cleanup EXIT

# (a) the fixed upstream
nginx -q -p "$RUN/nginx/" -c "$PEERS/nginx-upstream.conf" > "$RUN/nginx/logs/stdout.log" 2>&1 < /dev/null &   # daemon off in that file
for _ in $(seq 1 50); do curl -fsS -m 1 http://127.0.0.1:18080/v1/models >/dev/null 2>&1 && break; sleep 0.1; done
# (b) nginx as a reverse proxy in front of it: 1 worker, keepalive to the upstream
cat > "$RUN/proxy.conf" <<CONF
worker_processes 1;
error_log $RUN/proxy/logs/error.log warn;
pid $RUN/proxy/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_temp_path $RUN/proxy/body; proxy_temp_path $RUN/proxy/proxy;
  fastcgi_temp_path $RUN/proxy/fcgi; uwsgi_temp_path $RUN/proxy/uwsgi; scgi_temp_path $RUN/proxy/scgi;
  upstream fixed { server 127.0.0.1:18080; keepalive 64; }
  server {
    listen 127.0.0.1:18090 backlog=4096;
    location / { proxy_pass http://fixed; proxy_http_version 1.1; proxy_set_header Connection ""; proxy_buffering off; }
  }
}
CONF
nginx -q -p "$RUN/proxy/" -c "$RUN/proxy.conf" || exit 1
# (c) harness serve with a virtual key
cat > "$RUN/harness.yaml" <<CONF
server:
  auth: required
models:
  bench-gpt:
    provider: openai
    model: nginx-fixed
    base_url: http://127.0.0.1:18080/v1
    api_key_env: BENCH_UPSTREAM_KEY
  bench-gpt-sse:
    provider: openai
    model: nginx-fixed
    base_url: http://127.0.0.1:18080/sse/v1
    api_key_env: BENCH_UPSTREAM_KEY
CONF
KEY=$("$HARNESS" keys create --config "$RUN/harness.yaml" --storage "sqlite:$RUN/h.sqlite" --name bench 2>/dev/null)
BENCH_UPSTREAM_KEY=sk-upstream "$HARNESS" serve --config "$RUN/harness.yaml" --storage "sqlite:$RUN/h.sqlite" --port $HPORT --log-level warning > "$RUN/harness.log" 2>&1 &
HPID=$!; pids+=($HPID)
# (d) LiteLLM in front of the same upstream
if [[ " $TARGETS " == *" litellm "* ]]; then
  if [ ! -x "$ROOT/.build-peers/venv-litellm/bin/litellm" ]; then echo "gateway-bench: LiteLLM missing; run scripts/litellm-check.sh once"; exit 1; fi
  PORT=$LPORT WORKERS=1 NAME=litellm-gw-bench CONFIG="$PEERS/litellm-gateway.yaml" VENV="$ROOT/.build-peers/venv-litellm" \
    LITELLM_LOCAL_MODEL_COST_MAP=True "$PEERS/litellm-mock.sh" start >/dev/null || exit 1
fi
for _ in $(seq 1 100); do curl -fsS -m 1 "http://127.0.0.1:$HPORT/health/live" >/dev/null 2>&1 && break; sleep 0.1; done
rss() { awk '/VmRSS/ {print int($2/1024)}' "/proc/$1/status"; }
IDLE_RSS=$(rss $HPID)
echo "# $(date -Is) nproc=$(nproc) dur=$DUR wrk -t1; harness idle RSS ${IDLE_RSS} MiB"
MAX_RSS=$IDLE_RSS
declare -A R
for mode in $MODES; do
  if [ "$mode" = sse ]; then export STREAM=1 MODEL=bench-gpt-sse; NG=/sse/v1/chat/completions; else export STREAM=0 MODEL=bench-gpt; NG=/v1/chat/completions; fi
  for t in $TARGETS; do
    case $t in
      nginx) url=http://127.0.0.1:18080$NG; export API_KEY=x ;;
      proxy) url=http://127.0.0.1:18090$NG; export API_KEY=x ;;
      harness) url=http://127.0.0.1:$HPORT/v1/chat/completions; export API_KEY="$KEY" ;;
      litellm) url=http://127.0.0.1:$LPORT/v1/chat/completions; export API_KEY=sk-peer-test ;;
    esac
    wrk -t1 -c4 -d2s -s "$PEERS/wrk-chat.lua" "$url" >/dev/null 2>&1   # warm-up
    for c in $CONNS; do
      out=$(wrk -t1 -c$c -d$DUR --latency -s "$PEERS/wrk-chat.lua" "$url" 2>&1 & WP=$!
            if [ "$t" = harness ]; then sleep 3; rss $HPID > "$RUN/rss"; fi; wait $WP)
      line=$(grep RESULT <<<"$out")
      [ "$t" = harness ] && [ -f "$RUN/rss" ] && { r=$(cat "$RUN/rss"); [ "$r" -gt "$MAX_RSS" ] && MAX_RSS=$r; }
      echo "$mode $t c=$c $line"
      R["$mode,$t,$c"]="$line"
    done
  done
done
get() { sed -E "s/.* $2=([0-9.]+).*/\1/" <<<"${R[$1]:-}"; }
echo
echo "| mode | conns | target | req/s | p50 ms | p99 ms | added p50 vs direct | vs nginx proxy (req/s) |"
echo "|---|---|---|---|---|---|---|---|"
for mode in $MODES; do for c in $CONNS; do for t in $TARGETS; do
  k="$mode,$t,$c"; [ -n "${R[$k]:-}" ] || continue
  rps=$(get "$k" rps); p50=$(get "$k" p50_ms); p99=$(get "$k" p99_ms)
  d50=$(get "$mode,nginx,$c" p50_ms); prps=$(get "$mode,proxy,$c" rps)
  added=$(awk -v a="$p50" -v b="$d50" 'BEGIN{ if (b=="") print "-"; else printf "%+.0f µs", (a-b)*1000 }')
  ratio=$(awk -v a="$rps" -v b="$prps" 'BEGIN{ if (b==""||b==0) print "-"; else printf "%.2f×", a/b }')
  echo "| $mode | $c | $t | $rps | $p50 | $p99 | $added | $ratio |"
done; done; done
for mode in $MODES; do for c in $CONNS; do
  h=$(get "$mode,harness,$c" rps); l=$(get "$mode,litellm,$c" rps)
  [ -n "$h" ] && [ -n "$l" ] && awk -v h="$h" -v l="$l" -v m="$mode" -v c="$c" 'BEGIN{ printf "harness / LiteLLM (%s, %s conns): %.0f×\n", m, c, h/l }'
done; done
echo "harness RSS: idle ${IDLE_RSS} MiB, under load up to ${MAX_RSS} MiB"
