#!/usr/bin/env bash
# Checks infra/template.yaml: cfn-lint (no errors and no warnings), `sam validate --lint`,
# and `sam build` (compiles every function for arm64 in release with cargo-lambda).
#
#   infra/check.sh              all three
#   infra/check.sh --no-build   skip sam build (the slow part)
#
# Installs nothing: it needs cfn-lint, sam (aws-sam-cli) and, for the build,
# cargo-lambda on PATH (`pip install cfn-lint aws-sam-cli cargo-lambda`; the test
# runner installs them). Works offline, with dummy credentials.
#
# Measured on the project's 2-core machine (cfn-lint 1.x, SAM CLI 1.170):
#   cfn-lint        ~4 s
#   sam validate    ~4 s
#   sam build       ~15 min cold (899 s: four functions for arm64, release, LTO, with
#                   other builds sharing the 2 cores); `cargo lambda build --release --arm64`
#                   of alert-dispatcher alone, dependencies included: 4 min.
set -euo pipefail

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "check.sh: unknown argument $arg (expected --no-build)" >&2; exit 2 ;;
  esac
done

infra="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$infra")"
cd "$infra"

need() {
  command -v "$1" >/dev/null 2>&1 || { echo "check.sh: $1 is not on PATH ($2)" >&2; exit 127; }
}
need cfn-lint "pip install cfn-lint"
need sam "pip install aws-sam-cli"

export AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN=testing
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export SAM_CLI_TELEMETRY=0 SAM_CLI_CONTACT_TLS=0

step() {
  local name="$1"; shift
  local start=$SECONDS
  echo "== $name"
  "$@"
  echo "== $name: ok in $((SECONDS - start)) s"
}

# cfn-lint exits non-zero on warnings too (exit code 4 = warnings, 2 = errors).
step "cfn-lint" cfn-lint template.yaml
step "sam validate --lint" sam validate --lint --region us-east-1 --template-file template.yaml

if [ "$build" = 1 ]; then
  need cargo-lambda "pip install cargo-lambda"
  for f in chat-api agent-api sms-inbound alert-dispatcher; do
    [ -f "$root/functions/$f/src/main.rs" ] || { echo "check.sh: functions/$f/src/main.rs is missing; sam build needs every function" >&2; exit 1; }
  done
  # Build output in the (git-ignored) target dir; cargo shares /target with other builds.
  step "sam build" sam build --template-file template.yaml --build-dir "$root/target/sam/build" \
    --cache-dir "$root/target/sam/cache"
  ls -l "$root"/target/sam/build/*/bootstrap
fi
echo "infra checks passed"
