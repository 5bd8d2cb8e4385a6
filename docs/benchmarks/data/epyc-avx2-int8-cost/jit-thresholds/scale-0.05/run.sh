#!/bin/bash
# The scaling at 0.05 instead of 0.01, one round each, twice (70a9639's jar; --jit-directives adds the directives).
for n in 1 2; do
  nice -n -5 java -jar labelstream-70a9639.jar bench pipeline --models resnet50-int8 --sizes 224x224 --batch-sizes 8 \
    --rounds 1 --loads 0 --backlog 0 --no-peers --idle PT0S --pipeline-seconds 10 --run-jvm "-Xmx1g \
    -XX:+UseSerialGC -XX:PerfDataSamplingInterval=1000 -XX:CompileCommand=quiet \
    -XX:CompileCommand=CompileThresholdScaling,*.*,0.05 -XX:CompileCommand=CompileThresholdScaling,io/labelstream/image/*.*,1.0 \
    -XX:CompileCommand=CompileThresholdScaling,io/labelstream/model/*.*,1.0" --out out/$n > bench-output-$n.txt 2>&1
done
