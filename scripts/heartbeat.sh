#!/usr/bin/env bash
# heartbeat.sh WHAT COMMAND...: runs COMMAND and, every 20 s until it ends, says that WHAT is
# still going on, so that a long step of `make` never leaves a terminal silent.
set -u
what=$1
shift
echo "$what ..."
started=$SECONDS
"$@" &
command=$!
( while sleep 20; do echo "  still $what ($((SECONDS - started)) s)"; done ) &
beat=$!
wait "$command"
status=$?
kill "$beat" 2>/dev/null
wait "$beat" 2>/dev/null
exit "$status"
