#!/bin/bash
# How latency.csv was made (AMD EPYC, AVX2 only, 2 vCPUs; nothing else running; each benchmark at nice -5).
# Two builds, interleaved run by run:
#   whole.jar: the kept policy (a batch that finds one worker free runs whole on it)
#   split.jar: split-policy.patch applied (a batch over a worker's share of max.batch.size gives its other parts to
#              the next workers to come free, before any later batch)
# Sets a and b ran before latency runs had an untimed part (--latency-warmup did not exist yet; it is PT0S here).
set -e
common="bench pipeline --models resnet50 --sizes 640x480 --batch-sizes 8 --rounds 1 --backlog 0 --no-cost --idle PT0S --no-peers"
# a-cold-loads: the latency command of docs/benchmarks.md, six runs of each
for i in 1 2 3 4 5 6; do for v in whole split; do
  java -jar $v.jar $common --loads 0.5,0.8 --latency-warmup PT0S --out a-$v-$i > a-$v-$i.log 2>&1
done; done
# b-cold-rate: one fixed rate, three levels (three pipelines one after the other) per run; bench-latency-images.csv
# of each run is in images-fixed-rate.csv
for i in 1 2 3 4; do for v in whole split; do
  java -jar $v.jar $common --latency-rates 14.8,14.8,14.8 --latency-warmup PT0S --out b-$v-$i > b-$v-$i.log 2>&1
done; done
# c-warm-loads: the same command with the default 30-s untimed part per level; images-warm.csv
for i in 1 2 3; do for v in split whole; do
  java -jar $v.jar $common --loads 0.5,0.8 --out c-$v-$i > c-$v-$i.log 2>&1
done; done
for i in 4 5 6; do
  java -jar whole.jar $common --loads 0.5,0.8 --out c-whole-$i > c-whole-$i.log 2>&1
done
# jit-threads.txt: CPU seconds per thread group of both JVMs in every 5 s of a split run of set b's shape
# (python3 threads.py 5, beside it); the C2/C1 CompilerThread rows are the JIT compilers.
