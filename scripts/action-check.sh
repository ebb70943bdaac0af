#!/usr/bin/env bash
# The Action's check step: SARIF for code scanning, then annotations on the pull request
# (the second run reads the facts cache, so it costs little). The step fails as
# FORKGUARD_FAIL_ON says; the SARIF is written whatever the findings.
set -euo pipefail
read -r -a paths <<<"${FORKGUARD_PATHS:-.}"
read -r -a extra <<<"${FORKGUARD_ARGS:-}"
diff=()
[ -n "${FORKGUARD_DIFF:-}" ] && diff=(--diff "$FORKGUARD_DIFF")
sarif="${FORKGUARD_SARIF:-forkguard.sarif}"
# Flags for the compiler come after `--` in args: forkguard's own options go before it.
own=() compiler=()
seen=0
for word in "${extra[@]}"; do
  if [ "$seen" = 1 ]; then compiler+=("$word"); elif [ "$word" = "--" ]; then seen=1; else own+=("$word"); fi
done
[ "$seen" = 1 ] && compiler=(-- "${compiler[@]}")
forkguard check "${paths[@]}" "${own[@]}" "${diff[@]}" --no-progress --format sarif --output "$sarif" \
  --fail-on never "${compiler[@]}" >/dev/null
[ -n "${GITHUB_OUTPUT:-}" ] && echo "sarif-file=$sarif" >>"$GITHUB_OUTPUT"
forkguard check "${paths[@]}" "${own[@]}" "${diff[@]}" --no-progress --format github \
  --fail-on "${FORKGUARD_FAIL_ON:-warning}" "${compiler[@]}"
