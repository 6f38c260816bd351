using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Storage.Blocks;

namespace IdOS.Akka.Engine.Hosting;

/// <summary>
/// The consensus block store over a validator's SQLite file: blocks and certificates in their canonical encoding.
/// What it reads back was written by this node, yet it is decoded with the same checks as peer input, and a row that
/// does not decode stops the node with the height and file named instead of feeding consensus a damaged chain.
/// </summary>
public sealed class SqliteBlockStore : ICommittedBlockStore, IDisposable
{
    private readonly BlockStoreDatabase _db;
    private readonly ConsensusLimits _limits;
    private readonly string _path;
    private HashFilter? _committed;

    public SqliteBlockStore(string path, ConsensusLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _path = path;
        _limits = limits;
        _db = BlockStoreDatabase.Open(path);
    }

    public long Height => _db.Height;

    public void Append(Block block, QuorumCertificate certificate, Hash32 appHash)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(certificate);
        _db.Append(
            new StoredBlock(block.Height, block.Id.ToArray(), ConsensusCodec.EncodeBlock(block), ConsensusCodec.EncodeQc(certificate), appHash.ToArray()),
            block.TransactionHashes.Select(h => h.ToArray()));
        if (_committed is not null)
        {
            foreach (var hash in block.TransactionHashes)
            {
                _committed.Add(hash);
            }
        }
    }

    /// <summary>Carries out <see cref="PersistBlock"/>.</summary>
    public void Keep(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        _db.Keep(block.Id.ToArray(), block.Height, ConsensusCodec.EncodeBlock(block));
    }

    /// <summary>The kept blocks above the committed height, for the replica's restart.</summary>
    public List<Block> KeptBlocks() => [.. _db.KeptBlocks().Select(bytes => DecodeBlock(bytes, "a kept block"))];

    public Block? GetByHeight(long height) => _db.AtHeight(height) is { } stored ? DecodeBlock(stored.Block, $"height {height}") : null;

    public Block? GetById(Hash32 id) => _db.WithId(id.ToArray()) is { } stored ? DecodeBlock(stored.Block, $"height {stored.Height}") : null;

    public QuorumCertificate? CertificateAt(long height)
    {
        if (_db.CertificateAt(height) is not { } certificate)
        {
            return null;
        }

        return ConsensusCodec.TryDecodeQc(certificate, out var qc, out var error)
            ? qc
            : throw new InvalidDataException($"{_path}: the certificate at height {height} does not decode: {error}");
    }

    public Hash32? AppHashAt(long height) => _db.AppHashAt(height) is { } appHash ? new Hash32(appHash) : null;

    public long TransactionCount() => _db.TransactionCount();

    /// <summary>Every committed block id up to <paramref name="height"/>, in height order: what nodes compare to show agreement.</summary>
    public List<Hash32> BlockIdsUpTo(long height) => [.. _db.BlockIdsUpTo(height).Select(id => new Hash32(id))];

    /// <summary>
    /// Asked for every transaction a node admits, proposes or receives in a block; the filter answers most without
    /// SQLite. It is built from the file on first use, so a store opened only to read blocks never pays for it.
    /// </summary>
    public bool ContainsTransaction(Hash32 transactionHash) =>
        CommittedFilter().MayContain(transactionHash) && _db.ContainsTransaction(transactionHash.ToArray());

    public void Dispose() => _db.Dispose();

    private HashFilter CommittedFilter()
    {
        if (_committed is null)
        {
            _committed = new HashFilter(HashFilter.DefaultBits);
            foreach (var hash in _db.AllTransactionHashes())
            {
                _committed.Add(new Hash32(hash));
            }
        }

        return _committed;
    }

    private Block DecodeBlock(byte[] bytes, string what) =>
        ConsensusCodec.TryDecodeBlock(bytes, _limits, out var block, out var error)
            ? block
            : throw new InvalidDataException($"{_path}: {what} does not decode: {error}");
}
