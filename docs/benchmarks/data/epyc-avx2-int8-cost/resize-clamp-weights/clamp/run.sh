#!/bin/bash
# before = e1f2b1d, after = 8720fc5 (the two-tap horizontal loop without the clamp), jars built with
# `mvn -B -o -q package -DskipTests`. Run in the order after, before, before, after.
run() {
  nice -n -5 java -jar labelstream-$1.jar bench pipeline --models resnet50-int8 --sizes 224x224 --batch-sizes 8 \
    --rounds 3 --loads 0 --backlog 0 --no-peers --idle PT0S --pipeline-seconds 10 --out out/$2 > $2.txt 2>&1
}
run after after-1; run before before-1
run before before-2; run after after-2
