#!/bin/sh
# The demo killed with SIGKILL in the middle of epoch 1, with checkpoints every 10 batches, and
# resumed from its last checkpoint (mid-epoch: the checkpoint holds the loader's position) ends
# with the same losses and test accuracy, to the printed digit, as an uninterrupted 2-epoch run.
# usage: demo_resume.sh DEMO WORK_DIR
set -u
demo=$1
work=$2
rm -rf "$work" && mkdir -p "$work" || exit 1
flags="--epochs 2 --train-subset 6000 --test-subset 2000 --threads 1 --csv $work/curves.csv --svg $work/curves.svg"

# shellcheck disable=SC2086
"$demo" $flags > "$work/straight.txt" 2>&1 || { cat "$work/straight.txt"; exit 1; }
straight=$(grep '^final test accuracy' "$work/straight.txt" | cut -d' ' -f4)
# Each epoch's losses and accuracy as printed (without its time), for a finer comparison.
straight_epochs=$(grep -o 'epoch [12]/2  train loss.*test accuracy [0-9.]*' "$work/straight.txt")

# The first checkpoint appears after batch 10 of epoch 1's 47; the kill lands a few batches later.
# shellcheck disable=SC2086
"$demo" $flags --checkpoint "$work/run.ckpt" --checkpoint-every 10 > "$work/killed.txt" 2>&1 &
pid=$!
while [ ! -e "$work/run.ckpt" ] && kill -0 "$pid" 2>/dev/null; do sleep 0.01; done
kill -9 "$pid" 2>/dev/null
wait "$pid"
status=$?
if [ "$status" -ne 137 ]; then
  echo "the run was not killed mid-epoch (exit status $status)"; cat "$work/killed.txt"; exit 1
fi

# shellcheck disable=SC2086
"$demo" $flags --checkpoint "$work/run.ckpt" --checkpoint-every 10 --resume > "$work/resumed.txt" 2>&1 ||
  { cat "$work/resumed.txt"; exit 1; }
where=$(grep -o 'resumed from .* in epoch [12], after batch [0-9]* of [0-9]*' "$work/resumed.txt") ||
  { echo "not resumed mid-epoch:"; cat "$work/resumed.txt"; exit 1; }
resumed=$(grep '^final test accuracy' "$work/resumed.txt" | cut -d' ' -f4)
resumed_epochs=$(grep -o 'epoch [12]/2  train loss.*test accuracy [0-9.]*' "$work/resumed.txt")
# On a slow machine the kill may land in epoch 2: then only epoch 2 is compared.
if echo "$where" | grep -q 'in epoch 2'; then
  straight_epochs=$(echo "$straight_epochs" | grep '^epoch 2/2')
fi

echo "killed with SIGKILL (status $status); $where"
echo "straight: final test accuracy $straight"
echo "killed mid-epoch and resumed: final test accuracy $resumed"
echo "straight:"
echo "$straight_epochs"
echo "resumed:"
echo "$resumed_epochs"
# The resumed run prints the epoch it resumed in (with the whole epoch's mean loss) and the rest.
[ -n "$straight" ] && [ "$straight" = "$resumed" ] && [ "$straight_epochs" = "$resumed_epochs" ] &&
  echo "resume: same accuracy"
