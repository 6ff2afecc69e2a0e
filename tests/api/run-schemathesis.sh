#!/usr/bin/env bash
# The API contract, checked by an outside tool: schemathesis (PyPI) fuzzes a local
# `handoff serve` from the OpenAPI document that server publishes at /openapi.json,
# once with a customer's conversation token and once each with an agent's and a
# supervisor's token. It must find no server error, no status code or body outside the
# document, and no undocumented content type.
#
#   tests/api/run-schemathesis.sh        (HANDOFF_BIN: the handoff binary; default
#                                          $CARGO_TARGET_DIR/debug/handoff, built if missing)
#
# Bounded: ST_MAX_EXAMPLES cases per operation and phase (default 25), ST_MAX_TIME
# seconds per run (default 60), a fixed seed, one worker, loopback only; the server it
# starts is stopped on exit. Prints "# pass N" / "# fail N" (runs) for tests/run.
set -uo pipefail
cd "$(dirname "$0")/../.."
ST_VERSION=4.32.5
MAX_EXAMPLES=${ST_MAX_EXAMPLES:-25}
MAX_TIME=${ST_MAX_TIME:-60}
SEED=${ST_SEED:-20261201}
CHECKS=not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance

if [ "$(python3 -c 'import importlib.metadata as m; print(m.version("schemathesis"))' 2>/dev/null)" != "$ST_VERSION" ]; then
  python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore "schemathesis==$ST_VERSION" \
    || { echo "pip install schemathesis failed"; echo "# pass 0"; echo "# fail 1"; exit 1; }
  if command -v pyenv >/dev/null; then pyenv rehash; fi
  hash -r
fi
ST=(python3 -m schemathesis.cli)
python3 -c 'import schemathesis.cli' 2>/dev/null || ST=(schemathesis)

BIN=${HANDOFF_BIN:-${CARGO_TARGET_DIR:-target}/debug/handoff}
if [ ! -x "$BIN" ]; then cargo build -q -p handoff-local || exit 1; fi

WORK=$(mktemp -d /tmp/handoff-schemathesis.XXXXXX)
SERVER=
cleanup() { [ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; }
trap cleanup EXIT
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
# `handoff serve` binds 127.0.0.1 only. Rate limits off: the fuzzer sends far more than
# a customer would, and a 429 would hide the answers under test.
HANDOFF_RATE_LIMITS=off "$BIN" serve --port "$PORT" --data "$WORK/data" >"$WORK/serve.log" 2>&1 &
SERVER=$!
API="http://127.0.0.1:$PORT"
for _ in $(seq 1 100); do curl -s -o /dev/null "$API/healthz" && break; sleep 0.2; done
curl -sf -o /dev/null "$API/healthz" || { echo "server not answering"; cat "$WORK/serve.log"; echo "# pass 0"; echo "# fail 1"; exit 1; }

# A real conversation waiting for a person, so the fuzzed requests reach real code
# (its id is every {id}; its token the customer's bearer).
curl -s "$API/v1/chat/messages" -H 'content-type: application/json' \
  -d '{"text":"상담원 연결해 주세요","client_message_id":"schemathesis-1"}' >"$WORK/conv.json"
CID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["conversation_id"])' "$WORK/conv.json") || { cat "$WORK/conv.json"; exit 1; }
CUSTOMER=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$WORK/conv.json")
AGENT=$("$BIN" token agent-a --data "$WORK/data")
SUPERVISOR=$("$BIN" token sup-a --supervisor --data "$WORK/data")

PASS=0; FAIL=0
run() { # name token filter...
  local name=$1 token=$2; shift 2
  printf '\n-- schemathesis %s (max %s examples, %s s)\n' "$name" "$MAX_EXAMPLES" "$MAX_TIME"
  cat >"$WORK/$name.toml" <<TOML
[parameters]
"path.id" = "$CID"
TOML
  # Run from the scratch directory: schemathesis keeps a cache in its working directory.
  (cd "$WORK" && timeout --kill-after=10 $((MAX_TIME + 60)) "${ST[@]}" --no-color --config-file "$WORK/$name.toml" run "$API/openapi.json" \
    --checks "$CHECKS" --max-examples "$MAX_EXAMPLES" --max-time "$MAX_TIME" --seed "$SEED" \
    --workers 1 --request-timeout 10 -H "Authorization: Bearer $token" "$@" \
    --report junit --report-junit-path "$WORK/$name.junit.xml") 2>&1 | tee "$WORK/$name.log"
  if [ "${PIPESTATUS[0]}" = 0 ]; then PASS=$((PASS + 1)); else FAIL=$((FAIL + 1)); fi
}
run customer "$CUSTOMER" --exclude-tag agent
run agent "$AGENT" --include-tag agent
run supervisor "$SUPERVISOR" --include-tag agent

echo
if [ "$FAIL" = 0 ]; then
  cleanup; SERVER=; rm -rf "$WORK"
  echo "schemathesis $ST_VERSION: $PASS runs passed, $FAIL failed"
else
  echo "schemathesis $ST_VERSION: $PASS runs passed, $FAIL failed (logs and the server's data in $WORK)"
fi
echo "# pass $PASS"
echo "# fail $FAIL"
[ "$FAIL" = 0 ]
