#!/bin/bash
# The build that ships the scaled thresholds (cd84e64), bench's own defaults for the run's JVM (--run-jvm and
# --jit-directives), with the idle measurement.
nice -n -5 java -jar labelstream-cd84e64.jar bench pipeline --models resnet50-int8 --sizes 224x224 --batch-sizes 8 \
  --rounds 3 --loads 0 --backlog 0 --no-peers --idle PT20S --pipeline-seconds 10 --out out > bench-output.txt 2>&1
