#!/bin/sh
# The demo killed with SIGKILL in the middle of epoch 2 and resumed from its epoch-1 checkpoint
# ends with the same test accuracy, to the printed digit, as an uninterrupted 2-epoch run.
# usage: demo_resume.sh DEMO WORK_DIR
set -u
demo=$1
work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
flags="--epochs 2 --train-subset 6000 --test-subset 2000 --threads 1 --csv $work/curves.csv --svg $work/curves.svg"

# shellcheck disable=SC2086
"$demo" $flags > "$work/straight.txt" 2>&1 || { cat "$work/straight.txt"; exit 1; }
straight=$(grep '^final test accuracy' "$work/straight.txt" | cut -d' ' -f4)
# Epoch 2's losses and accuracy as printed (without its time), for a finer comparison.
straight_epoch=$(grep -o 'epoch 2/2  train loss.*test accuracy [0-9.]*' "$work/straight.txt")

# The checkpoint appears when epoch 1 ends; the kill then lands inside epoch 2.
# shellcheck disable=SC2086
"$demo" $flags --checkpoint "$work/run.ckpt" > "$work/killed.txt" 2>&1 &
pid=$!
while [ ! -e "$work/run.ckpt" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
kill -9 "$pid" 2>/dev/null
wait "$pid"
status=$?
if [ "$status" -ne 137 ]; then
  echo "the run was not killed mid-epoch 2 (exit status $status)"; cat "$work/killed.txt"; exit 1
fi
if grep -q 'epoch 2/2  train loss' "$work/killed.txt"; then echo "killed after epoch 2 ended"; exit 1; fi

# shellcheck disable=SC2086
"$demo" $flags --checkpoint "$work/run.ckpt" --resume > "$work/resumed.txt" 2>&1 ||
  { cat "$work/resumed.txt"; exit 1; }
grep -q 'resumed from .* after epoch 1' "$work/resumed.txt" || { cat "$work/resumed.txt"; exit 1; }
resumed=$(grep '^final test accuracy' "$work/resumed.txt" | cut -d' ' -f4)
resumed_epoch=$(grep -o 'epoch 2/2  train loss.*test accuracy [0-9.]*' "$work/resumed.txt")

echo "straight: final test accuracy $straight"
echo "killed mid-epoch 2 and resumed: final test accuracy $resumed"
echo "straight:  $straight_epoch"
echo "resumed:   $resumed_epoch"
[ -n "$straight" ] && [ "$straight" = "$resumed" ] && [ "$straight_epoch" = "$resumed_epoch" ] &&
  echo "resume: same accuracy"
