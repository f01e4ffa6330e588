#!/usr/bin/env bash
# Bounded coverage-guided fuzzing of the header parser: afl++ drives FastPath.Fuzz, whose copy of
# FastPath.Dataplane.dll SharpFuzz has instrumented with afl coverage. Each input is one frame placed flush
# against a PROT_NONE page and parsed by every path; an over-read (SIGSEGV) or a path that disagrees with
# the scalar twin (exception) is a crash.
#
# Usage: tools/fuzz/run.sh [SECONDS] [--save]   SECONDS defaults to 60; --save copies the inputs afl++ kept
# (new coverage) into tools/fuzz/corpus so the saved corpus grows. Exits 1 if afl++ recorded a crash or hang.
set -euo pipefail
cd "$(dirname "$0")"
seconds=${1:-60}
work=$(mktemp -d /tmp/fastpath-fuzz.XXXXXX)
trap 'rm -rf "$work"' EXIT

dotnet tool restore >/dev/null
dotnet build FastPath.Fuzz -c Release -o "$work/bin" -nologo -v quiet
dotnet tool run sharpfuzz "$work/bin/FastPath.Dataplane.dll" >/dev/null

# The target is managed code, so afl++'s checks for a natively instrumented binary, CPU governor and core
# pattern do not apply; the machine's settings are left alone.
export AFL_SKIP_BIN_CHECK=1 AFL_SKIP_CPUFREQ=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_NO_AFFINITY=1 AFL_NO_UI=1
afl-fuzz -i corpus -o "$work/findings" -m none -t 5000 -V "$seconds" -- "$work/bin/FastPath.Fuzz" >"$work/afl.log" 2>&1 || {
  tail -30 "$work/afl.log" >&2
  exit 1
}

stats="$work/findings/default/fuzzer_stats"
grep -E '^(execs_done|execs_per_sec|corpus_count|saved_crashes|saved_hangs|bitmap_cvg) ' "$stats" | sed 's/^/fuzz: /'
if [[ "${2:-}" == "--save" ]]; then
  for input in "$work"/findings/default/queue/id:*; do
    name=$(basename "$input")
    [[ "$name" == *orig:* ]] || cp "$input" "corpus/afl-$(sha1sum "$input" | cut -c1-12)"
  done
fi

crashes=$(find "$work/findings/default/crashes" "$work/findings/default/hangs" -name 'id:*' | wc -l)
if ((crashes > 0)); then
  for input in "$work"/findings/default/crashes/id:* "$work"/findings/default/hangs/id:*; do
    [[ -e "$input" ]] && echo "fuzz: $(basename "$input"): $(od -An -tx1 -v "$input" | tr -d " \n")" >&2
  done
  echo "fuzz: $crashes crashing or hanging inputs" >&2
  exit 1
fi
