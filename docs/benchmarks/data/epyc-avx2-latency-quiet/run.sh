#!/bin/bash
# Set a: five runs of the default and two with one 2-thread worker (-s model.intra.op.threads=2), one capacity
# round each; sets b and c: three runs each of the default with the capacity and the ceiling as medians of three
# rounds. Nothing else ran on the host; the benchmark at nice -5.
for i in 1 2 3 4 5; do
  java -jar target/labelstream.jar bench pipeline --models resnet50 --sizes 640x480 --batch-sizes 8 --rounds 1 \
    --loads 0.5,0.8 --backlog 0 --no-cost --idle PT0S --no-peers --out "a-$i" > "a-$i.log" 2>&1
done
for i in 1 2; do
  java -jar target/labelstream.jar bench pipeline --models resnet50 --sizes 640x480 --batch-sizes 8 --rounds 1 \
    --loads 0.5,0.8 --backlog 0 --no-cost --idle PT0S --no-peers -s model.intra.op.threads=2 --out "a-b$i" > "a-b$i.log" 2>&1
done
for set in b c; do
  for i in 1 2 3; do
    java -jar target/labelstream.jar bench pipeline --models resnet50 --sizes 640x480 --batch-sizes 8 --rounds 3 \
      --loads 0.5,0.8 --backlog 0 --no-cost --idle PT0S --no-peers --out "$set-$i" > "$set-$i.log" 2>&1
  done
done
# Pipeline capacity by max.batch.size (capacity-by-batch.csv):
java -jar target/labelstream.jar bench pipeline --models resnet50 --sizes 640x480 --batch-sizes 1,2,4,8 --rounds 3 \
  --loads 0 --backlog 0 --no-cost --idle PT0S --no-peers --out capacity-by-batch > capacity-by-batch.log 2>&1
