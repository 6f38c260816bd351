using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Consensus;

/// <summary>
/// The committed chain followed from genesis by headers alone (each with its transactions' hashes), as a node that
/// starts from a state snapshot learns it: every header must be the child of the one before, match its hashes, and
/// carry a QC for its parent that the validator set signed; a header is committed once the two-chain rule proves it
/// (a certified child in the next round), and the ones below with it. Whoever sent the headers, only the certificates
/// count. Only the headers above the last committed one are held.
/// </summary>
public sealed class HeaderChain(ChainParameters chain, SignatureChecks checks)
{
    private readonly List<PrunedBlock> _uncommitted = [];
    private Hash32 _committedId = chain.GenesisBlock.Id;

    public long CommittedHeight { get; private set; }

    /// <summary>The height the next header must have.</summary>
    public long NextHeight => CommittedHeight + _uncommitted.Count + 1;

    private Hash32 TipId => _uncommitted.Count > 0 ? _uncommitted[^1].Id : _committedId;

    /// <summary>
    /// Adds <paramref name="headers"/> in height order. Returns those it proves committed, oldest first, each with the
    /// QC that certifies it (carried by its successor); or, at the first header that does not hold, the reason, with
    /// the headers before it kept.
    /// </summary>
    public (List<(PrunedBlock Header, QuorumCertificate Certificate)> Committed, string? Refusal) Add(IReadOnlyList<PrunedBlock> headers)
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
                : checks.CheckQc(header.Justify) is { IsAccepted: false } verdict ? $"header {header.Height}: {verdict.Reason}"
                : null;
            if (refusal is not null)
            {
                return (committed, refusal);
            }

            _uncommitted.Add(block);
            CommitByTwoChain(committed);
        }

        return (committed, null);
    }

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

        var through = _uncommitted.Count - 3;
        for (var i = 0; i <= through; i++)
        {
            committed.Add((_uncommitted[i], _uncommitted[i + 1].Header.Justify));
        }

        _committedId = parent.Id;
        CommittedHeight = parent.Header.Height;
        _uncommitted.RemoveRange(0, through + 1);
    }
}
