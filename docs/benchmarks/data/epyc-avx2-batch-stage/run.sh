#!/bin/bash
# Interleaved: before (e2701e6), after (HEAD), one round each, three times.
for r in 1 2 3; do
  for v in before after; do
    echo "=== $v round $r $(date +%T)"
    java -jar labelstream-$v.jar bench pipeline --models resnet18 --sizes 224x224 --batch-sizes 8 --rounds 1 \
      --loads 0 --backlog 0 --no-peers --idle PT0S --out out/$v-$r 2>&1 | grep -v "^[0-9][0-9]:[0-9][0-9]:" 
  done
done
echo "=== done $(date +%T)"
