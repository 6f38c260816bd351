using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The committed chain followed from genesis by headers alone (each with its transactions' hashes), as a node that
/// starts from a state snapshot learns it: every header must be the child of the one before, match its hashes, name
/// its epoch's set, and carry a QC for its parent that the set signed; a header is committed once the two-chain rule
/// proves it (a certified child in the next round), and the ones below with it. An epoch's last block is committed by
/// its <see cref="EpochTransition"/> instead: empty blocks of the old epoch, certified by the old set, that name the
/// next set's hash, which the set that comes with them must have. Whoever sent the headers, only the certificates
/// count. Only the headers above the last committed one are held.
/// </summary>
public sealed class HeaderChain(ChainParameters genesis, ISignatureVerifier verifier)
{
    private readonly List<PrunedBlock> _uncommitted = [];
    private readonly ChainParameters _genesis = genesis;
    private Hash32 _committedId = genesis.GenesisBlock.Id;
    private ChainParameters _chain = genesis;
    private SignatureChecks _checks = new(genesis, verifier);

    public long CommittedHeight { get; private set; }

    /// <summary>The height the next header must have.</summary>
    public long NextHeight => CommittedHeight + _uncommitted.Count + 1;

    /// <summary>The epoch the next header must be in, and its set.</summary>
    public ChainParameters Epoch => _chain;

    private Hash32 TipId => _uncommitted.Count > 0 ? _uncommitted[^1].Id : _committedId;

    /// <summary>
    /// Adds <paramref name="headers"/> in height order, then the <paramref name="transition"/> out of their epoch if
    /// any. Returns those it proves committed, oldest first, each with the QC that certifies it (carried by its
    /// successor, or by the transition's first block); or, at the first part that does not hold, the reason, with the
    /// headers before it kept.
    /// </summary>
    public (List<(PrunedBlock Header, QuorumCertificate Certificate)> Committed, string? Refusal) Add(IReadOnlyList<PrunedBlock> headers,
        EpochTransition? transition = null)
    {
        ArgumentNullException.ThrowIfNull(headers);
        var committed = new List<(PrunedBlock, QuorumCertificate)>();
        foreach (var block in headers)
        {
            var header = block.Header;
            var refusal = header.Height != NextHeight ? $"header at height {header.Height} where {NextHeight} comes next"
                : header.ParentId != TipId ? $"header {header.Height} is not the child of the header before it"
                : !block.HashesMatchHeader() ? $"header {header.Height}'s transaction hashes are not the ones its Merkle root commits to"
                : header.Justify.BlockId != TipId ? $"header {header.Height} does not carry a QC for its parent"
                : header.Round <= header.Justify.Round ? $"header {header.Height} is not in a round after its parent's QC"
                : !NamesItsSet(header) ? $"header {header.Height} names epoch {header.Epoch} and set {header.SetHash.ToShortString()}, " +
                    $"not epoch {_chain.Epoch}'s {_chain.Validators.Hash.ToShortString()} (a change of set needs its transition first)"
                : header.NextSetHash != Hash32.Zero ? $"header {header.Height} names a next set: such a block is never committed"
                : _checks.CheckQc(header.Justify) is { IsAccepted: false } verdict ? $"header {header.Height}: {verdict.Reason}"
                : null;
            if (refusal is not null)
            {
                return (committed, refusal);
            }

            _uncommitted.Add(block);
            CommitByTwoChain(committed);
        }

        return transition is null ? (committed, null) : (committed, Cross(transition, committed));
    }

    // Blocks written before headers named their set carry none; only genesis's epoch can hold such blocks.
    private bool NamesItsSet(BlockHeader header) =>
        header.Epoch == _chain.Epoch && (header.SetHash == _chain.Validators.Hash || (header.SetHash == Hash32.Zero && _chain.Epoch == 0));

    /// <summary>
    /// The newest header's QC certifies its parent; when that parent's round follows its own parent's, the
    /// grandparent and everything below it are committed.
    /// </summary>
    private void CommitByTwoChain(List<(PrunedBlock, QuorumCertificate)> committed)
    {
        if (_uncommitted.Count < 3)
        {
            return;
        }

        var certified = _uncommitted[^2];
        var parent = _uncommitted[^3];
        if (parent.Header.Round + 1 != certified.Header.Round)
        {
            return;
        }

        CommitThrough(_uncommitted.Count - 3, i => _uncommitted[i + 1].Header.Justify, committed);
    }

    private void CommitThrough(int through, Func<int, QuorumCertificate> certificateOf, List<(PrunedBlock, QuorumCertificate)> committed)
    {
        for (var i = 0; i <= through; i++)
        {
            committed.Add((_uncommitted[i], certificateOf(i)));
        }

        _committedId = _uncommitted[through].Id;
        CommittedHeight = _uncommitted[through].Header.Height;
        _uncommitted.RemoveRange(0, through + 1);
    }

    /// <summary>
    /// The old set's proof commits the newest header (the epoch's last block) and everything below it, and vouches
    /// for the next set's hash; from here on headers are checked against that set, except the QC of the last block,
    /// which the first header of the new epoch carries and the old set signed.
    /// </summary>
    private string? Cross(EpochTransition transition, List<(PrunedBlock, QuorumCertificate)> committed)
    {
        var proof = transition.Proof;
        if (proof.ShapeProblem(_chain.Epoch) is { } problem)
        {
            return $"transition out of epoch {_chain.Epoch}: {problem}";
        }

        if (_uncommitted.Count == 0 || proof.LastBlockId != TipId || proof.Suffix[0].Header.Justify.Round != _uncommitted[^1].Header.Round)
        {
            return $"transition out of epoch {_chain.Epoch} does not extend the header at height {NextHeight - 1}";
        }

        if (transition.NextSet.Hash != proof.NextSetHash)
        {
            return $"transition out of epoch {_chain.Epoch} brings set {transition.NextSet.Hash.ToShortString()}; its blocks name {proof.NextSetHash.ToShortString()}";
        }

        foreach (var certificate in proof.Suffix.Select(b => b.Header.Justify).Append(proof.Certificate))
        {
            if (_checks.CheckQc(certificate) is { IsAccepted: false } verdict)
            {
                return $"transition out of epoch {_chain.Epoch}: {verdict.Reason}";
            }
        }

        var lastQc = proof.Suffix[0].Header.Justify;
        CommitThrough(_uncommitted.Count - 1, i => i + 1 < _uncommitted.Count ? _uncommitted[i + 1].Header.Justify : lastQc, committed);
        var previous = _checks;
        _chain = _genesis.ForEpoch(_chain.Epoch + 1, transition.NextSet);
        _checks = new SignatureChecks(_chain, verifier);
        _checks.OpenOn(lastQc, previous);
        return null;
    }
}
