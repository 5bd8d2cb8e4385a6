#!/bin/bash
# The flat topics' cost: the same short bench pipeline twice, without and with labels.flat.topic and
# labels.ranks.topic, from the repository's folder after mvn -B -q package -DskipTests.
set -euo pipefail
cd "$(dirname "$0")/../../../.."
COMMON="--models resnet18 --sizes 224x224 --batch-sizes 8 --rounds 3 --loads 0 --backlog 0 --idle PT0S --no-peers --cost-seconds 30"
java -jar target/labelstream.jar bench pipeline $COMMON --out target/bench-flat-off
java -jar target/labelstream.jar bench pipeline $COMMON --out target/bench-flat-on \
  -s labels.flat.topic=bench-label-rows -s labels.ranks.topic=bench-label-ranks
