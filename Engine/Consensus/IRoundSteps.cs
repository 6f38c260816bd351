using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>The steps of a replica that its parts call back: certificates move rounds and commit, missing blocks are fetched.</summary>
internal interface IRoundSteps
{
    /// <summary>A verified QC: it may raise the high QC, commit blocks (the two-chain rule) and start the next round.</summary>
    void AdvanceWith(QuorumCertificate qc, PeerId from);

    /// <summary>A verified TC: the next round, entered by it.</summary>
    void AdvanceWith(TimeoutCertificate tc);

    void EnterRound(long round, TimeoutCertificate? viaTc);

    void Fetch(Hash32 blockId, PeerId? from);

    /// <summary>Fetched blocks went into the tree: what waited for them (a commit, a proposal, a leader's turn) goes on.</summary>
    void BlocksConnected();

    /// <summary>A proposal of the next epoch carried how this epoch's last block committed.</summary>
    void CatchEpochEnd(EpochProof proof, PeerId from);
}
