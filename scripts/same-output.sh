#!/usr/bin/env bash
# Shows that two builds of `tradeoff` give the same results: every plan is solved
# by both (`solve --format json`, explanations on, on each engine given), and the
# JSON results are compared with the solve time removed (the only field that may
# differ). Used to check that a restructuring changed no behaviour.
#
#   scripts/same-output.sh OLD_BINARY NEW_BINARY [PLAN.json ...]
#
# Without plans: examples/*.json and, when present, the realistic corpus beside the
# repository (../shared/plans/realistic/plan_*.json, not its expected files).
# SOLVERS (default "auto") lists the engines to run, e.g. SOLVERS="microlp highs".
# Exits 1 and prints the first differing lines of each plan that differs. A plan
# whose results differ only in break-even scales that one run's time budget cut
# short is counted apart, not as a difference. DROP_FIELDS (e.g. "unit") names
# JSON keys removed everywhere before comparing: fields a change adds on purpose.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ $# -lt 2 ]; then
    sed -n '2,18p' "$0" >&2
    exit 2
fi
old=$1 new=$2
shift 2
plans=("$@")
if [ ${#plans[@]} -eq 0 ]; then
    plans=(examples/*.json)
    for plan in ../shared/plans/realistic/plan_*.json; do
        case $plan in *.expected.json) ;; *) [ -e "$plan" ] && plans+=("$plan") ;; esac
    done
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
drop=$(printf '"%s",' ${DROP_FIELDS:-} | sed 's/,$//')
normalise() {
    jq -S "del(.solver.solveTime) | walk(if type == \"object\" then delpaths([keys_unsorted[] | select(IN($drop)) | [.]]) else . end)"
}
without_break_even() { jq -S 'walk(if type == "object" then del(.breakEvenScale) else . end)'; }
differ=0 same=0 budget=0
for solver in ${SOLVERS:-auto}; do
    for plan in "${plans[@]}"; do
        # Exit codes tell outcomes apart (3: infeasible, 4: unbounded): compared too.
        # Break-even scales are cut off by the explanations' time budget (10 times
        # the solve's own time), so a busy machine can drop one in either run: a
        # plan that differs is run twice more, and identical once is identical.
        for attempt in 1 2 3; do
            old_code=0 new_code=0
            "$old" solve "$plan" --format json --solver "$solver" 2>/dev/null | normalise >"$work/old.json" || old_code=$?
            "$new" solve "$plan" --format json --solver "$solver" 2>/dev/null | normalise >"$work/new.json" || new_code=$?
            if [ "$old_code" = "$new_code" ] && cmp -s "$work/old.json" "$work/new.json"; then
                break
            fi
        done
        if [ "$old_code" = "$new_code" ] && ! cmp -s "$work/old.json" "$work/new.json" &&
            cmp -s <(without_break_even <"$work/old.json") <(without_break_even <"$work/new.json"); then
            # Only a break-even scale one run had time for and the other did not.
            budget=$((budget + 1))
            echo "same but for break-even scales cut by the time budget ($solver): $plan"
        elif [ "$old_code" != "$new_code" ] || ! cmp -s "$work/old.json" "$work/new.json"; then
            differ=$((differ + 1))
            echo "DIFFERS ($solver): $plan (exit $old_code vs $new_code)"
            diff "$work/old.json" "$work/new.json" | head -10 || true
        else
            same=$((same + 1))
        fi
    done
done
echo "$same identical, $budget identical but for time-limited break-even scales, $differ different"
[ "$differ" -eq 0 ]
