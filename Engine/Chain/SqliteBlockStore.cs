using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Chain;

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
    private CommittedTransactionIndex? _index;
    private WriteBatch? _batch;

    public SqliteBlockStore(string path, ConsensusLimits limits)
    {
        ArgumentNullException.ThrowIfNull(limits);
        _path = path;
        _limits = limits;
        _db = BlockStoreDatabase.Open(path);
    }

    public long Height => _db.Height;

    public long ExecutedHeight => _db.ExecutedHeight;

    public void Append(Block block, QuorumCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(certificate);
        var index = CommittedIndex();
        _db.Append(new StoredBlock(block.Height, block.Id.ToArray(), ConsensusCodec.EncodeBlock(block), ConsensusCodec.EncodeQc(certificate)));
        index.Committed(block.Height, block.TransactionHashes, stored: _batch is null);
        _batch?.Appended.Add((block.Height, block.TransactionHashes));
    }

    /// <summary>A committed block below a state snapshot, known by its header and transaction hashes only (<see cref="BlockStoreDatabase.AppendPruned"/>).</summary>
    public void AppendPruned(PrunedBlock block, QuorumCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(block);
        ArgumentNullException.ThrowIfNull(certificate);
        var index = CommittedIndex();
        _db.AppendPruned(new StoredBlock(block.Header.Height, block.Id.ToArray(), ConsensusCodec.EncodePrunedBlock(block), ConsensusCodec.EncodeQc(certificate), Pruned: true));
        index.Committed(block.Header.Height, block.TransactionHashes, stored: true);
    }

    /// <summary>The app hash of a state imported from a snapshot at a stored height, the first recorded.</summary>
    public void RecordSnapshotAppHash(long height, Hash32 appHash) => _db.RecordSnapshotAppHash(height, appHash.ToArray());

    /// <summary>
    /// Groups appends and kept blocks into one transaction until <see cref="WriteBatch.Commit"/>. Appends tell the
    /// committed-transaction index at once, since later checks in the same step must see them, but its files only
    /// after the commit; a batch that rolls back takes them out again.
    /// </summary>
    public WriteBatch BeginBatch()
    {
        _batch = new WriteBatch(this, _db.BeginBatch(), Height);
        return _batch;
    }

    /// <summary>Carries out <see cref="PersistBlock"/>.</summary>
    public void Keep(Block block)
    {
        ArgumentNullException.ThrowIfNull(block);
        _db.Keep(block.Id.ToArray(), block.Height, ConsensusCodec.EncodeBlock(block));
    }

    /// <summary>The kept blocks above the committed height, for the replica's restart.</summary>
    public List<Block> KeptBlocks() => [.. _db.KeptBlocks().Select(bytes => DecodeBlock(bytes, "a kept block"))];

    /// <summary>The block with its body; null when the height is not committed here or its body was pruned.</summary>
    public Block? GetByHeight(long height) => _db.AtHeight(height) is { Pruned: false } stored ? DecodeBlock(stored.Block, $"height {height}") : null;

    public Block? GetById(Hash32 id) => _db.WithId(id.ToArray()) is { Pruned: false } stored ? DecodeBlock(stored.Block, $"height {stored.Height}") : null;

    /// <summary>The header and transaction hashes of a committed height, body pruned or not; null when the height is not committed here.</summary>
    public PrunedBlock? HeaderAt(long height)
    {
        if (_db.AtHeight(height) is not { } stored)
        {
            return null;
        }

        if (!stored.Pruned)
        {
            var block = DecodeBlock(stored.Block, $"height {height}");
            return new PrunedBlock(block.Header, block.TransactionHashes);
        }

        return ConsensusCodec.TryDecodePrunedBlock(stored.Block, _limits, out var pruned, out var error)
            ? pruned
            : throw new InvalidDataException($"{_path}: the pruned block at height {height} does not decode: {error}");
    }

    /// <summary>The highest height whose body is pruned; 0 when none is.</summary>
    public long PrunedHeight => _db.PrunedHeight();

    /// <summary>The committed height in the file, for a reader beside the connection consensus appends on.</summary>
    public long StoredHeight => _db.StoredHeight();

    /// <summary>
    /// Cuts the bodies of committed blocks at or below <paramref name="height"/> down to header and transaction hashes,
    /// at most <paramref name="limit"/> blocks at a time so that the writer is never held long; returns how many.
    /// </summary>
    public int Prune(long height, int limit)
    {
        var candidates = _db.UnprunedUpTo(height, limit);
        _db.ReplaceWithPruned([.. candidates.Select(stored => (stored.Height, ConsensusCodec.EncodePrunedBlock(DecodeBlock(stored.Block, $"height {stored.Height}"))))]);
        return candidates.Count;
    }

    /// <inheritdoc cref="BlockStoreDatabase.CheckpointAndTruncate"/>
    public bool CheckpointAndTruncate() => _db.CheckpointAndTruncate();

    /// <summary>
    /// Checks the stored chain from genesis to the top without needing a single body: every header hashes to its
    /// block id, extends the block before it through its justify QC, is certified by a QC with a quorum of valid
    /// signatures, and commits (through its Merkle root) to the transaction hashes kept for it. Null when it all
    /// holds; otherwise the first height and what is wrong there.
    /// </summary>
    public string? VerifyChain(ChainParameters chain, ISignatureVerifier verifier)
    {
        ArgumentNullException.ThrowIfNull(chain);
        var checks = new SignatureChecks(chain, verifier);
        var previous = chain.GenesisBlock.Id;
        for (var height = 1L; height <= Height; height++)
        {
            var stored = _db.AtHeight(height);
            if (stored is null)
            {
                return $"height {height}: missing";
            }

            BlockHeader header;
            IReadOnlyList<Hash32> hashes;
            if (stored.Pruned)
            {
                if (!ConsensusCodec.TryDecodePrunedBlock(stored.Block, _limits, out var pruned, out var error))
                {
                    return $"height {height}: the pruned block does not decode: {error}";
                }

                (header, hashes) = (pruned.Header, pruned.TransactionHashes);
            }
            else
            {
                var block = DecodeBlock(stored.Block, $"height {height}");
                (header, hashes) = (block.Header, block.TransactionHashes);
            }

            var id = Block.IdOf(header);
            var certificate = CertificateAt(height);
            var problem = id != new Hash32(stored.BlockId) ? "the header does not hash to the stored block id"
                : header.Height != height ? $"the header says height {header.Height}"
                : header.ParentId != previous ? "the header's justify QC names another parent than the block below"
                : header.TxCount != hashes.Count || header.TxRoot != MerkleTree.Root(hashes) ? "the transaction hashes do not give the header's Merkle root"
                : certificate is null || certificate.BlockId != id ? "no certificate for this block"
                : checks.CheckQc(certificate).Reason;
            if (problem is not null)
            {
                return $"height {height}: {problem}";
            }

            previous = id;
        }

        return null;
    }

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

    public void RecordAppHash(long height, Hash32 appHash) => _db.RecordAppHash(height, appHash.ToArray());

    public void KeepCommitProof(QuorumCertificate certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        _db.KeepCommitProof(ConsensusCodec.EncodeQc(certificate));
    }

    public QuorumCertificate? CommitProof =>
        _db.CommitProof() is not { } bytes ? null
        : ConsensusCodec.TryDecodeQc(bytes, out var qc, out var error) ? qc
        : throw new InvalidDataException($"{_path}: the commit proof does not decode: {error}");

    public void KeepEpochProof(long epoch, EpochProof proof)
    {
        ArgumentNullException.ThrowIfNull(proof);
        _db.KeepEpochProof(epoch, ConsensusCodec.Encode(new EpochEnd(proof)));
    }

    public EpochProof? EpochProofOf(long epoch) =>
        _db.EpochProof(epoch) is not { } bytes ? null
        : ConsensusCodec.TryDecode(bytes, _limits, out var message, out var error) && message is EpochEnd end ? end.Proof
        : throw new InvalidDataException($"{_path}: the proof of epoch {epoch}'s end does not decode: {error ?? "not an epoch end"}");

    /// <summary>
    /// The validator set of a later epoch, as the executed state scheduled it (or a checked epoch transition brought
    /// it): served with the proof of the epoch before's end to nodes that follow the chain by headers.
    /// </summary>
    public void KeepEpochSet(long epoch, ValidatorSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        var keys = new byte[set.Count * Ed25519PublicKey.Size];
        for (var i = 0; i < set.Count; i++)
        {
            set[i].Bytes.CopyTo(keys.AsSpan(i * Ed25519PublicKey.Size));
        }

        _db.KeepEpochSet(epoch, keys);
    }

    public ValidatorSet? SetOf(long epoch)
    {
        if (_db.EpochSet(epoch) is not { } keys)
        {
            return null;
        }

        return keys.Length > 0 && keys.Length % Ed25519PublicKey.Size == 0
            ? new ValidatorSet([.. keys.Chunk(Ed25519PublicKey.Size).Select(key => Ed25519PublicKey.TryCreate(key)
                ?? throw new InvalidDataException($"{_path}: epoch {epoch}'s set holds a key that is not an ed25519 public key"))])
            : throw new InvalidDataException($"{_path}: epoch {epoch}'s set is {keys.Length} bytes, not a whole number of keys");
    }

    /// <summary>What takes a node following the chain by headers from <paramref name="epoch"/> into the next, when kept here.</summary>
    public EpochTransition? TransitionAfter(long epoch) =>
        EpochProofOf(epoch) is { } proof && SetOf(epoch + 1) is { } set ? new EpochTransition(proof, set) : null;

    public long TransactionCount() => CommittedIndex().Count();

    /// <summary>Every committed transaction's hash, whether or not the file's index has caught up with it yet.</summary>
    public List<Hash32> AllTransactionHashes() => CommittedIndex().All();

    /// <summary>Every committed block id up to <paramref name="height"/>, in height order: what nodes compare to show agreement.</summary>
    public List<Hash32> BlockIdsUpTo(long height) => [.. _db.BlockIdsUpTo(height).Select(id => new Hash32(id))];

    /// <summary>
    /// Asked for every transaction a node admits, proposes or receives in a block; the index's filter answers most
    /// without SQLite. The index is built on first use, so a store opened only to read blocks never pays for it.
    /// </summary>
    public bool ContainsTransaction(Hash32 transactionHash) => CommittedIndex().Contains(transactionHash);

    public void FindCommitted(ReadOnlySpan<Hash32> transactionHashes, Span<bool> committed) => CommittedIndex().FindCommitted(transactionHashes, committed);

    /// <summary>
    /// <see cref="FindCommitted"/> for another thread than the one that owns this store (the mempool actor's). Call it
    /// before that thread starts: the committed index is opened here, through this store's connection.
    /// </summary>
    public CommittedLookup ConcurrentCommittedLookup() => CommittedIndex().FindCommitted;

    public void Dispose()
    {
        _index?.Dispose();
        _db.Dispose();
    }

    /// <summary>An open <see cref="BeginBatch"/>: commit it, or dispose it to roll back.</summary>
    public sealed class WriteBatch : IDisposable
    {
        private readonly SqliteBlockStore _store;
        private readonly BlockStoreDatabase.WriteBatch _writes;
        private readonly long _heightBefore;
        private bool _done;

        internal WriteBatch(SqliteBlockStore store, BlockStoreDatabase.WriteBatch writes, long heightBefore) =>
            (_store, _writes, _heightBefore) = (store, writes, heightBefore);

        internal List<(long Height, IReadOnlyList<Hash32> Hashes)> Appended { get; } = [];

        public void Commit()
        {
            ObjectDisposedException.ThrowIf(_done, this);
            _done = true;
            _store._batch = null;
            try
            {
                _writes.Commit();
            }
            catch
            {
                ForgetAppended();
                throw;
            }

            foreach (var (height, hashes) in Appended)
            {
                _store._index!.Stored(height, hashes);
            }
        }

        public void Dispose()
        {
            if (_done)
            {
                return;
            }

            _done = true;
            _store._batch = null;
            _writes.Dispose();
            ForgetAppended();
        }

        private void ForgetAppended()
        {
            if (Appended.Count > 0)
            {
                _store._index!.RolledBack(_heightBefore);
            }
        }
    }

    private CommittedTransactionIndex CommittedIndex()
    {
        if (_index is null)
        {
            var files = TransactionIndexFiles.Open(TransactionIndexFiles.PathFor(_path));
            _index = new CommittedTransactionIndex(files, UnindexedBlocks(files.IndexedHeight()));
        }

        return _index;
    }

    private IEnumerable<(long Height, IReadOnlyList<Hash32> Hashes)> UnindexedBlocks(long indexedHeight)
    {
        for (var height = indexedHeight + 1; height <= Height; height++)
        {
            var stored = _db.AtHeight(height) ?? throw new InvalidDataException($"{_path}: height {height} is missing below the top, {Height}.");
            if (!stored.Pruned)
            {
                yield return (height, DecodeBlock(stored.Block, $"height {height}").TransactionHashes);
            }
            else
            {
                yield return ConsensusCodec.TryDecodePrunedBlock(stored.Block, _limits, out var pruned, out var error)
                    ? (height, pruned.TransactionHashes)
                    : throw new InvalidDataException($"{_path}: the pruned block at height {height} does not decode: {error}");
            }
        }
    }

    private Block DecodeBlock(byte[] bytes, string what) =>
        ConsensusCodec.TryDecodeBlock(bytes, _limits, out var block, out var error)
            ? block
            : throw new InvalidDataException($"{_path}: {what} does not decode: {error}");
}
