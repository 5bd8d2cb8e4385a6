#!/bin/bash
# Five runs of the latency benchmark, one after the other, each in a fresh JVM with its own broker.
for i in 1 2 3 4 5; do
  java -jar target/labelstream.jar bench pipeline --models resnet50 --sizes 640x480 --batch-sizes 8 --rounds 1 \
    --loads 0.5,0.8 --backlog 0 --no-cost --idle PT0S --no-peers --out "run-$i" > "run-$i.log" 2>&1
done
