--------------------------- MODULE RaftCompare ---------------------------
(* dscheck's TLA+ rendering of the semantics of spec/raft_tla.py, which follows the actions of
   Ongaro's raft.tla (Timeout, RequestVote, BecomeLeader, ClientRequest, AdvanceCommitIndex,
   AppendEntries with at most one entry, UpdateTerm as its own step, one conflicting entry
   removed per step, the message bag). Written for a side-by-side TLC run of the same work:
   bench/modelcheck_tlc.sh. KeepZero = TRUE keeps count-0 messages in the bag's domain (as
   raft.tla does); FALSE removes them. VoterLog = TRUE adds the voter's log to RequestVote
   responses, as raft.tla's history field mlog does (a VIEW that drops history variables does
   not drop a message field). Bounds are state constraints (MCConstraint); CountDomain = TRUE
   bounds the number of messages in the bag's domain instead of the sum of their counts. *)
EXTENDS Naturals, FiniteSets, Sequences, TLC

CONSTANTS Server, Value, MaxTerm, MaxLog, MaxInFlight, KeepZero, VoterLog, CountDomain
CONSTANTS Follower, Candidate, Leader, Nil
CONSTANTS RVReq, RVResp, AEReq, AEResp

VARIABLES msgs, term, role, vote, log, commit, responded, granted, nextIdx, matchIdx
vars == <<msgs, term, role, vote, log, commit, responded, granted, nextIdx, matchIdx>>

Quorum == {q \in SUBSET Server : 2 * Cardinality(q) > Cardinality(Server)}
LastTerm(l) == IF l = <<>> THEN 0 ELSE l[Len(l)].term
Min(a, b) == IF a < b THEN a ELSE b
Max(a, b) == IF a > b THEN a ELSE b

Add(m, b) == IF m \in DOMAIN b THEN [b EXCEPT ![m] = @ + 1] ELSE b @@ (m :> 1)
Remove(m, b) ==
  IF b[m] = 1 /\ ~KeepZero
  THEN [x \in DOMAIN b \ {m} |-> b[x]]
  ELSE [b EXCEPT ![m] = @ - 1]
InFlight == LET F[D \in SUBSET DOMAIN msgs] ==
                  IF D = {} THEN 0 ELSE LET x == CHOOSE y \in D : TRUE IN msgs[x] + F[D \ {x}]
            IN F[DOMAIN msgs]

Init == /\ msgs = [m \in {} |-> 0]
        /\ term = [i \in Server |-> 1]
        /\ role = [i \in Server |-> Follower]
        /\ vote = [i \in Server |-> Nil]
        /\ log = [i \in Server |-> <<>>]
        /\ commit = [i \in Server |-> 0]
        /\ responded = [i \in Server |-> {}]
        /\ granted = [i \in Server |-> {}]
        /\ nextIdx = [i \in Server |-> [j \in Server |-> 1]]
        /\ matchIdx = [i \in Server |-> [j \in Server |-> 0]]

Timeout(i) ==
  /\ role[i] \in {Follower, Candidate}
  /\ role' = [role EXCEPT ![i] = Candidate]
  /\ term' = [term EXCEPT ![i] = @ + 1]
  /\ vote' = [vote EXCEPT ![i] = Nil]
  /\ responded' = [responded EXCEPT ![i] = {}]
  /\ granted' = [granted EXCEPT ![i] = {}]
  /\ UNCHANGED <<msgs, log, commit, nextIdx, matchIdx>>

RequestVote(i, j) ==
  /\ role[i] = Candidate /\ j \notin responded[i]
  /\ msgs' = Add([type |-> RVReq, src |-> i, dst |-> j, term |-> term[i],
                  lastIndex |-> Len(log[i]), lastTerm |-> LastTerm(log[i])], msgs)
  /\ UNCHANGED <<term, role, vote, log, commit, responded, granted, nextIdx, matchIdx>>

BecomeLeader(i) ==
  /\ role[i] = Candidate /\ granted[i] \in Quorum
  /\ role' = [role EXCEPT ![i] = Leader]
  /\ nextIdx' = [nextIdx EXCEPT ![i] = [j \in Server |-> Len(log[i]) + 1]]
  /\ matchIdx' = [matchIdx EXCEPT ![i] = [j \in Server |-> 0]]
  /\ UNCHANGED <<msgs, term, vote, log, commit, responded, granted>>

ClientRequest(i, v) ==
  /\ role[i] = Leader
  /\ log' = [log EXCEPT ![i] = Append(@, [term |-> term[i], value |-> v])]
  /\ UNCHANGED <<msgs, term, role, vote, commit, responded, granted, nextIdx, matchIdx>>

AdvanceCommitIndex(i) ==
  /\ role[i] = Leader
  /\ LET agree == {k \in 1..Len(log[i]) :
                     {i} \cup {j \in Server : matchIdx[i][j] >= k} \in Quorum}
         top == IF agree = {} THEN 0 ELSE CHOOSE k \in agree : \A x \in agree : x <= k
     IN commit' = [commit EXCEPT ![i] =
                     IF agree /= {} /\ log[i][top].term = term[i] THEN top ELSE @]
  /\ UNCHANGED <<msgs, term, role, vote, log, responded, granted, nextIdx, matchIdx>>

AppendEntries(i, j) ==
  /\ i /= j /\ role[i] = Leader
  /\ LET prev == nextIdx[i][j] - 1
         last == Min(Len(log[i]), nextIdx[i][j])
     IN msgs' = Add([type |-> AEReq, src |-> i, dst |-> j, term |-> term[i],
                     prevIndex |-> prev,
                     prevTerm |-> IF prev > 0 THEN log[i][prev].term ELSE 0,
                     entries |-> SubSeq(log[i], nextIdx[i][j], last),
                     commit |-> Min(commit[i], last)], msgs)
  /\ UNCHANGED <<term, role, vote, log, commit, responded, granted, nextIdx, matchIdx>>

Reply(resp, m) == msgs' = Remove(m, Add(resp, msgs))
Discard(m) == msgs' = Remove(m, msgs)

UpdateTerm(m) ==
  LET i == m.dst IN
  /\ m.term > term[i]
  /\ term' = [term EXCEPT ![i] = m.term]
  /\ role' = [role EXCEPT ![i] = Follower]
  /\ vote' = [vote EXCEPT ![i] = Nil]
  /\ UNCHANGED <<msgs, log, commit, responded, granted, nextIdx, matchIdx>>

HandleRVReq(m) ==
  LET i == m.dst
      j == m.src
      logOk == \/ m.lastTerm > LastTerm(log[i])
               \/ /\ m.lastTerm = LastTerm(log[i]) /\ m.lastIndex >= Len(log[i])
      grant == m.term = term[i] /\ logOk /\ vote[i] \in {Nil, j}
  IN /\ m.term <= term[i]
     /\ vote' = IF grant THEN [vote EXCEPT ![i] = j] ELSE vote
     /\ Reply([type |-> RVResp, src |-> i, dst |-> j, term |-> term[i], granted |-> grant,
               \* VoterLog = TRUE: the voter's log rides along, as raft.tla's history field mlog
               voterLog |-> IF VoterLog THEN log[i] ELSE <<>>], m)
     /\ UNCHANGED <<term, role, log, commit, responded, granted, nextIdx, matchIdx>>

HandleRVResp(m) ==
  LET i == m.dst IN
  /\ m.term = term[i]
  /\ responded' = [responded EXCEPT ![i] = @ \cup {m.src}]
  /\ granted' = IF m.granted THEN [granted EXCEPT ![i] = @ \cup {m.src}] ELSE granted
  /\ Discard(m)
  /\ UNCHANGED <<term, role, vote, log, commit, nextIdx, matchIdx>>

HandleAEReq(m) ==
  LET i == m.dst
      j == m.src
      logOk == \/ m.prevIndex = 0
               \/ /\ m.prevIndex > 0 /\ m.prevIndex <= Len(log[i])
                  /\ m.prevTerm = log[i][m.prevIndex].term
      index == m.prevIndex + 1
  IN /\ m.term <= term[i]
     /\ \/ /\ \/ m.term < term[i]
              \/ m.term = term[i] /\ role[i] = Follower /\ ~logOk
           /\ Reply([type |-> AEResp, src |-> i, dst |-> j, term |-> term[i],
                     success |-> FALSE, matchIndex |-> 0], m)
           /\ UNCHANGED <<term, role, vote, log, commit>>
        \/ /\ m.term = term[i] /\ role[i] = Candidate
           /\ role' = [role EXCEPT ![i] = Follower]
           /\ UNCHANGED <<msgs, term, vote, log, commit>>
        \/ /\ m.term = term[i] /\ role[i] = Follower /\ logOk
           /\ \/ /\ \/ m.entries = <<>>
                    \/ /\ m.entries /= <<>> /\ Len(log[i]) >= index
                       /\ log[i][index].term = m.entries[1].term
                 /\ commit' = [commit EXCEPT ![i] = m.commit]
                 /\ Reply([type |-> AEResp, src |-> i, dst |-> j, term |-> term[i],
                           success |-> TRUE, matchIndex |-> m.prevIndex + Len(m.entries)], m)
                 /\ UNCHANGED <<term, role, vote, log>>
              \/ /\ m.entries /= <<>> /\ Len(log[i]) >= index
                 /\ log[i][index].term /= m.entries[1].term
                 /\ log' = [log EXCEPT ![i] = SubSeq(@, 1, Len(@) - 1)]
                 /\ UNCHANGED <<msgs, term, role, vote, commit>>
              \/ /\ m.entries /= <<>> /\ Len(log[i]) = m.prevIndex
                 /\ log' = [log EXCEPT ![i] = Append(@, m.entries[1])]
                 /\ UNCHANGED <<msgs, term, role, vote, commit>>
     /\ UNCHANGED <<responded, granted, nextIdx, matchIdx>>

HandleAEResp(m) ==
  LET i == m.dst
      j == m.src
  IN /\ m.term = term[i]
     /\ IF m.success
        THEN /\ nextIdx' = [nextIdx EXCEPT ![i][j] = m.matchIndex + 1]
             /\ matchIdx' = [matchIdx EXCEPT ![i][j] = m.matchIndex]
        ELSE /\ nextIdx' = [nextIdx EXCEPT ![i][j] = Max(@ - 1, 1)]
             /\ UNCHANGED matchIdx
     /\ Discard(m)
     /\ UNCHANGED <<term, role, vote, log, commit, responded, granted>>

DropStale(m) ==
  /\ m.term < term[m.dst]
  /\ Discard(m)
  /\ UNCHANGED <<term, role, vote, log, commit, responded, granted, nextIdx, matchIdx>>

Receive(m) ==
  /\ msgs[m] > 0
  /\ \/ UpdateTerm(m)
     \/ m.type = RVReq /\ HandleRVReq(m)
     \/ m.type = RVResp /\ (DropStale(m) \/ HandleRVResp(m))
     \/ m.type = AEReq /\ HandleAEReq(m)
     \/ m.type = AEResp /\ (DropStale(m) \/ HandleAEResp(m))

Next == \/ \E i \in Server : Timeout(i)
        \/ \E i, j \in Server : RequestVote(i, j)
        \/ \E i \in Server : BecomeLeader(i)
        \/ \E i \in Server, v \in Value : ClientRequest(i, v)
        \/ \E i \in Server : AdvanceCommitIndex(i)
        \/ \E i, j \in Server : AppendEntries(i, j)
        \/ \E m \in DOMAIN msgs : Receive(m)

Spec == Init /\ [][Next]_vars

MCConstraint == /\ \A i \in Server : term[i] <= MaxTerm /\ Len(log[i]) <= MaxLog
                /\ IF CountDomain THEN Cardinality(DOMAIN msgs) <= MaxInFlight
                                   ELSE InFlight <= MaxInFlight
MCSymmetry == Permutations(Server)

ElectionSafety == \A i, j \in Server :
  (i /= j /\ role[i] = Leader /\ role[j] = Leader) => term[i] /= term[j]
LogMatching == \A i, j \in Server : \A k \in 1..Min(Len(log[i]), Len(log[j])) :
  log[i][k].term = log[j][k].term => SubSeq(log[i], 1, k) = SubSeq(log[j], 1, k)
CommittedPrefixAgree == \A i, j \in Server : \A k \in 1..Min(commit[i], commit[j]) :
  k <= Len(log[i]) /\ k <= Len(log[j]) /\ log[i][k] = log[j][k]
=============================================================================
