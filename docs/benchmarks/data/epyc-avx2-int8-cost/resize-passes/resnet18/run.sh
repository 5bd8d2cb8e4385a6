#!/bin/bash
# fp32 ResNet-18, before = 488f9da, after = 0cb5977, one round each, interleaved three times.
for r in 1 2 3; do
  for v in before after; do
    nice -n -5 java -jar labelstream-$v.jar bench pipeline --models resnet18 --sizes 224x224 --batch-sizes 8 \
      --rounds 1 --loads 0 --backlog 0 --no-peers --idle PT0S --pipeline-seconds 10 --out $v-$r > $v-$r.txt 2>&1
  done
done
