#!/bin/bash
# `labelstream run` from start to /health/ready 200, and its process CPU then and 10 s later, with the images'
# options without (base) and with (sc) the compile-threshold scaling SCALE; alternating, three times each.
# Usage: SCALE=0.01 JAR=target/labelstream.jar start-up.sh (the broker in its own JVM, the int8 ResNet-50 that
# `bench` generates in ~/.cache/labelstream/models).
JAR=${JAR:-target/labelstream.jar}
D=$(mktemp -d); unzip -p $JAR io/labelstream/ops/jit-directives.json > $D/jit-directives.json
rm -f $D/bs; (sleep 100000 | java -Xmx1g -cp $JAR io.labelstream.bench.BrokerProcess $D/bs > $D/broker.log 2>&1) &
BP=$!; while [ ! -f $D/bs ]; do sleep 0.2; done; BS=$(cat $D/bs)
BASE="-Xmx1g -XX:+UseSerialGC -XX:PerfDataSamplingInterval=1000 -XX:+UnlockDiagnosticVMOptions -XX:CompilerDirectivesFile=$D/jit-directives.json -XX:+DisplayVMOutputToStderr"
SC="-XX:CompileCommand=quiet -XX:CompileCommand=CompileThresholdScaling,*.*,$SCALE -XX:CompileCommand=CompileThresholdScaling,io/labelstream/image/*.*,1.0 -XX:CompileCommand=CompileThresholdScaling,io/labelstream/model/*.*,1.0"
n=0
for i in 1 2 3; do for v in base sc; do
  n=$((n+1)); o="$BASE"; [ $v = sc ] && o="$BASE $SC"; port=$((41000+n))
  t0=$(date +%s.%N)
  java $o -cp $JAR io.labelstream.cli.Main run -s ops.port=$port -s bootstrap.servers=$BS -s application.id=st$n -s input.topics=st$n-in -s labels.topic=st$n-labels -s failures.topic=st$n-failures -s model.path=$HOME/.cache/labelstream/models/resnet50-seed20151210-int8.onnx -s state.dir=$D/state$n > $D/run$n.log 2>&1 &
  P=$!
  until [ "$(curl -s -o /dev/null -w '%{http_code}' localhost:$port/health/ready)" = 200 ]; do sleep 0.05; done
  t1=$(date +%s.%N); read -r line < /proc/$P/stat; set -- ${line##*) }; cpu=$(( ${12} + ${13} ))
  sleep 10; read -r line < /proc/$P/stat; set -- ${line##*) }; cpu10=$(( ${12} + ${13} ))
  echo "$v ready $(echo "$t1 - $t0" | bc) s, cpu at ready ${cpu}0 ms, +10s idle ${cpu10}0 ms"
  kill $P; wait $P 2>/dev/null
done; done
pkill -f BrokerProcess; pkill -f "sleep 100000"
