#!/usr/bin/env bash
# Global top-k over 100M float32 vs a full sort of |x| (JMH, same run).
# Usage: tools/bench-topk.sh [extra JMH args, e.g. -p size=10000000]
#   JMH_RUN (default "-f 1 -wi 2 -i 3") sets fork/warmup/measurement counts.
# Needs JDK 25 (JAVA_HOME, default /usr/lib/jvm/temurin-25-jdk-amd64) and ~5 GB of free memory.
# The benchmark is compiled here with javac -proc:full because JDK 23+ runs annotation
# processors (JMH's generator) only when asked, and the Maven build does not ask.
set -euo pipefail
cd "$(dirname "$0")/.."
export JAVA_HOME="${JAVA_HOME:-/usr/lib/jvm/temurin-25-jdk-amd64}"
root="$(pwd)"
target="$root/storage/target"

./mvnw -q -B -o -pl storage -am install -DskipTests
./mvnw -q -B -o -pl storage dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile="$target/bench.cp"
cp="$target/classes:$target/test-classes:$(cat "$target/bench.cp")"

rm -rf "$target/jmh-classes" "$target/jmh-sources"
mkdir -p "$target/jmh-classes" "$target/jmh-sources"
"$JAVA_HOME/bin/javac" --release 25 -proc:full -cp "$cp" -d "$target/jmh-classes" -s "$target/jmh-sources" \
  storage/src/test/java/dev/nps/storage/bench/TopK*.java

exec "$JAVA_HOME/bin/java" -Xmx1g -cp "$target/jmh-classes:$cp" org.openjdk.jmh.Main 'TopKBenchmark' ${JMH_RUN:--f 1 -wi 2 -i 3} "$@"
