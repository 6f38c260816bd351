using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Simulation;

/// <summary>A validator instance's committed blocks; it survives the instance's crashes, as a disk would.</summary>
public sealed class SimBlockStore : ICommittedBlockStore
{
    private readonly List<(Block Block, QuorumCertificate Certificate)> _chain = [];
    private readonly List<Hash32> _appHashes = [];
    private readonly Dictionary<Hash32, int> _indexById = [];
    private readonly HashSet<Hash32> _transactions = [];

    public long Height => _chain.Count;

    public long ExecutedHeight => _appHashes.Count;

    /// <summary>Set when a block arrived out of order or repeated a committed transaction; read by the invariant checker.</summary>
    public string? Corruption { get; private set; }

    public void Append(Block block, QuorumCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Height != Height + 1)
        {
            Corruption ??= $"block at height {block.Height} appended after height {Height}";
        }

        foreach (var hash in block.TransactionHashes)
        {
            if (!_transactions.Add(hash))
            {
                Corruption ??= $"transaction {hash.ToShortString()} committed a second time at height {block.Height}";
            }
        }

        _indexById[block.Id] = _chain.Count;
        _chain.Add((block, certificate));
    }

    public void RecordAppHash(long height, Hash32 appHash)
    {
        if (height != ExecutedHeight + 1 || height > Height)
        {
            Corruption ??= $"app hash for height {height} recorded after height {ExecutedHeight}, with {Height} committed";
            return;
        }

        _appHashes.Add(appHash);
    }

    public void KeepCommitProof(QuorumCertificate certificate) => CommitProof = certificate;

    public QuorumCertificate? CommitProof { get; private set; }

    private readonly Dictionary<long, EpochProof> _epochProofs = [];

    public void KeepEpochProof(long epoch, EpochProof proof) => _epochProofs[epoch] = proof;

    public EpochProof? EpochProofOf(long epoch) => _epochProofs.GetValueOrDefault(epoch);

    public Block? GetByHeight(long height) => height >= 1 && height <= Height ? _chain[(int)height - 1].Block : null;

    public Block? GetById(Hash32 id) => _indexById.TryGetValue(id, out var index) ? _chain[index].Block : null;

    public QuorumCertificate? CertificateAt(long height) => height >= 1 && height <= Height ? _chain[(int)height - 1].Certificate : null;

    public Hash32? AppHashAt(long height) => height >= 1 && height <= ExecutedHeight ? _appHashes[(int)height - 1] : null;

    public bool ContainsTransaction(Hash32 transactionHash) => _transactions.Contains(transactionHash);
}
