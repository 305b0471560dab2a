#!/usr/bin/env bash
# Lints the infrastructure code: Dockerfiles with hadolint and checkov, Terraform with
# python-hcl2 (every .tf file must parse) and checkov. Exits non-zero when any check fails.
#
# Usage: tools/lint-infra.sh [PATH...]
#   PATH is a Dockerfile, a .tf file, or a folder of Terraform (searched recursively).
#   Default: infra/Dockerfile infra/terraform
# The tools come from .venv-lint (tools/setup-lint-venv.sh, run here first; a no-op when it is
# already up to date). Runs offline: checkov is told not to download anything.
set -uo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
venv="$repo/.venv-lint"

"$repo/tools/setup-lint-venv.sh" || { echo "lint-infra: could not set up $venv" >&2; exit 2; }

# Settings in the environment must not weaken the checks (e.g. CKV_SKIP_CHECK, CKV_SOFT_FAIL,
# HADOLINT_IGNORE): the only skips are the inline, reasoned ones in the files.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(CKV_|CHECKOV_|HADOLINT_|BC_|PRISMA_)' || true)

if [ "$#" -eq 0 ]; then
  set -- "$repo/infra/Dockerfile" "$repo/infra/terraform"
fi

failed=()
fail() { failed+=("$1"); echo "lint-infra: FAILED: $1" >&2; }

run_checkov() {  # run_checkov FRAMEWORK -f|-d PATH
  local framework=$1 flag=$2 target=$3
  echo "lint-infra: checkov ($framework) $target"
  # From the repo root, which has no .checkov.yaml; --skip-download: no Prisma Cloud calls.
  if ! (cd "$repo" && "$venv/bin/checkov" "$flag" "$target" --framework "$framework" \
          --compact --quiet --skip-download); then
    fail "checkov ($framework) $target"
  fi
}

parse_hcl() {  # parse_hcl FILE... : every file must parse as HCL2
  echo "lint-infra: python-hcl2 parse of $# file(s)"
  local bad
  # python-hcl2 lives in its own folder (see tools/setup-lint-venv.sh): put it first. Errors go
  # to stderr as FILE:LINE:COLUMN; the names of the files that failed come back on stdout.
  if ! bad=$(PYTHONPATH="$venv/python-hcl2" "$venv/bin/python" - "$@" <<'PY'
import sys

import hcl2

bad = []
for path in sys.argv[1:]:
  try:
    with open(path, encoding='utf-8') as handle:
      hcl2.load(handle)
  except Exception as error:  # lark's parse errors, and anything else the parser raises
    bad.append(path)
    where = path
    if getattr(error, 'line', None) is not None:
      where = f'{path}:{error.line}:{getattr(error, "column", "?")}'
    first = (str(error).strip().splitlines() or [type(error).__name__])[0]
    print(f'{where}: HCL parse error: {first}', file=sys.stderr)
print(' '.join(bad))
sys.exit(1 if bad else 0)
PY
  ); then
    fail "python-hcl2 parse: ${bad:-(parser did not run)}"
  fi
}

lint_dockerfile() {
  local file=$1
  echo "lint-infra: hadolint $file"
  if ! "$venv/bin/hadolint" --config "$repo/infra/hadolint.yaml" --no-color "$file"; then
    fail "hadolint $file"
  fi
  run_checkov dockerfile -f "$file"
}

for arg in "$@"; do
  path=$(realpath -m -- "$arg")
  name=$(basename -- "$path")
  if [ -d "$path" ]; then
    mapfile -t tf_files < <(find "$path" -name .terraform -prune -o -type f -name '*.tf' -print | sort)
    if [ "${#tf_files[@]}" -eq 0 ]; then
      fail "$arg: no .tf files in this folder"
      continue
    fi
    parse_hcl "${tf_files[@]}"
    run_checkov terraform -d "$path"
  elif [ ! -f "$path" ]; then
    fail "$arg: no such file or folder"
  elif [[ "$name" == *.tf ]]; then
    parse_hcl "$path"
    run_checkov terraform -f "$path"
  elif [[ "$name" == Dockerfile || "$name" == Dockerfile.* || "$name" == *.Dockerfile || "$name" == *.dockerfile ]] \
       && [[ "$name" != *.dockerignore ]]; then
    lint_dockerfile "$path"
  else
    # checkov picks Dockerfiles by name and would pass anything else silently.
    fail "$arg: not a Dockerfile (Dockerfile, Dockerfile.*, *.Dockerfile), a .tf file or a folder"
  fi
done

if [ "${#failed[@]}" -gt 0 ]; then
  echo "lint-infra: ${#failed[@]} check(s) failed:" >&2
  printf '  - %s\n' "${failed[@]}" >&2
  exit 1
fi
echo "lint-infra: all checks passed"
