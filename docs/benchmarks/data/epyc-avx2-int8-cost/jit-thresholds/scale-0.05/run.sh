#!/bin/bash
# The scaling at 0.05 instead of 0.01 (70a9639's jar; --jit-directives adds the directives), one round per run,
# three runs in this order: bench-output-1.txt, then bench-output-printcompilation.txt (-XX:+PrintCompilation added
# to the run's JVM, to see what it compiled when; its figures are not counted), then bench-output-2.txt.
S="-XX:CompileCommand=quiet -XX:CompileCommand=CompileThresholdScaling,*.*,0.05 \
  -XX:CompileCommand=CompileThresholdScaling,io/labelstream/image/*.*,1.0 \
  -XX:CompileCommand=CompileThresholdScaling,io/labelstream/model/*.*,1.0"
run() {
  nice -n -5 java -jar labelstream-70a9639.jar bench pipeline --models resnet50-int8 --sizes 224x224 --batch-sizes 8 \
    --rounds 1 --loads 0 --backlog 0 --no-peers --idle PT0S --pipeline-seconds 10 \
    --run-jvm "-Xmx1g -XX:+UseSerialGC -XX:PerfDataSamplingInterval=1000 $S $2" --out out/$1 > bench-output-$1.txt 2>&1
}
run 1; run printcompilation -XX:+PrintCompilation; run 2
