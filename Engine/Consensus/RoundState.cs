namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// What every part of a replica reads and moves within one step: the round, the high QC, the TC it entered the round
/// by, the step's time and the effects it produces so far, and the few facts about peers the parts share.
/// </summary>
internal sealed class RoundState(QuorumCertificate highQc, long currentRound)
{
    public long CurrentRound { get; set; } = currentRound;

    public QuorumCertificate HighQc { get; set; } = highQc;

    public TimeoutCertificate? LastRoundTc { get; set; }

    public long Now { get; set; }

    public List<ReplicaEffect> Effects { get; set; } = [];

    public ReplicaCounters Counters { get; } = new();

    /// <summary>Set while nothing is journaled (the empty-journal guard); gone with the first vote.</summary>
    public EmptyJournalGuard? JournalGuard { get; set; }

    /// <summary>
    /// A leader down: validators whose last round here ended in a timeout without their part (a proposal, or the QC of
    /// the round before they lead); a vote for the round before one of them leads goes to every validator.
    /// </summary>
    public HashSet<int> Suspects { get; } = [];

    /// <summary>The first proposal seen from each round's proposer, for evidence and for judging a TC's cause.</summary>
    public Dictionary<long, Proposal> FirstProposalByRound { get; } = [];

    public void Reject(PeerId from, string reason) => Effects.Add(new MessageRejected(from, reason));

    /// <summary>
    /// The sender is in <paramref name="peerRound"/>, below this validator's round: the certificates that brought this
    /// validator here go back to it. Nothing in the message is trusted for that, as the certificates prove themselves,
    /// and one small reply per message a peer sends cannot be turned into a flood.
    /// </summary>
    public void SyncPeerBehind(PeerId from, long peerRound)
    {
        if (from == PeerId.Self || HighQc.Round < peerRound && LastRoundTc is null)
        {
            return;
        }

        Effects.Add(new Reply(from, new RoundSync(HighQc, LastRoundTc)));
    }
}
