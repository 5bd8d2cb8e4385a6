#!/bin/bash
# fp32 ResNet-18 224², one build (70a9639), options as in ../run.sh; one round per run, order after, before, before, after.
BASEJVM="-Xmx1g -XX:+UseSerialGC -XX:PerfDataSamplingInterval=1000"
SC="-XX:CompileCommand=CompileThresholdScaling,*.*,0.01 -XX:CompileCommand=CompileThresholdScaling,io/labelstream/image/*.*,1.0 -XX:CompileCommand=CompileThresholdScaling,io/labelstream/model/*.*,1.0"
for v in after-1 before-1 before-2 after-2; do
  o="$BASEJVM"; case $v in after*) o="$BASEJVM $SC";; esac
  nice -n -5 java -jar labelstream-70a9639.jar bench pipeline --models resnet18 --sizes 224x224 --batch-sizes 8 \
    --rounds 1 --loads 0 --backlog 0 --no-peers --idle PT0S --pipeline-seconds 10 --run-jvm "$o" \
    --out out/$v > $v.txt 2>&1
done
