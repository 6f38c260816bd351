using IdOS.Akka.Engine.Storage;
using LinqToDB;
using LinqToDB.Data;
using LinqToDB.Mapping;

namespace IdOS.Akka.Engine.Chain;

/// <summary>
/// One committed block as stored: its encoding and the QC that certifies it. A pruned block's encoding is only its
/// header and transaction hashes (<paramref name="Pruned"/>).
/// </summary>
public sealed record StoredBlock(long Height, byte[] BlockId, byte[] Block, byte[] Certificate, bool Pruned = false);

/// <summary>
/// A validator's durable chain in its own SQLite file: committed blocks by height, the app hash after each executed
/// height (recorded when the executor reports it, after the block), and the uncommitted blocks consensus asked to keep. Blocks are opaque bytes here (this project does not know the consensus types). The file runs in WAL
/// mode with synchronous=FULL: a commit that returned survives power loss, which NORMAL does not promise in WAL mode.
/// The index of committed transactions' hashes has files of its own (<see cref="TransactionIndexFiles"/>).
/// secure_delete is on, so a pruned body or a dropped kept block is overwritten with zeros, not left in free space.
/// </summary>
public sealed class BlockStoreDatabase : IDisposable
{
    private const string StoredBlockColumns = "height, block_id, block, certificate, pruned";
    private readonly DataConnection _db;
    private readonly PreparedStatements _statements;
    private readonly List<(long Height, byte[] AppHash)> _unwrittenAppHashes = [];
    private bool _batchOpen;
    private DataConnectionTransaction? _batch;

    private BlockStoreDatabase(DataConnection db, long height, long executedHeight)
    {
        _db = db;
        _statements = PreparedStatements.Of(db);
        Height = height;
        ExecutedHeight = executedHeight;
    }

    public long Height { get; private set; }

    /// <summary>The highest height with an app hash recorded.</summary>
    public long ExecutedHeight { get; private set; }

    public static BlockStoreDatabase Open(string path)
    {
        // Consensus appends while the sync, query and retention actors use connections of their own (retention writes
        // when it prunes); a writer waits for the other rather than fail.
        var db = SqliteFile.Open(path, "synchronous=FULL", "secure_delete=ON", "busy_timeout=30000");
        try
        {
            db.Execute("""
                CREATE TABLE IF NOT EXISTS committed_blocks (
                    height INTEGER NOT NULL PRIMARY KEY,
                    block_id BLOB NOT NULL UNIQUE,
                    block BLOB NOT NULL,
                    certificate BLOB NOT NULL,
                    app_hash BLOB NOT NULL)
                """);
            db.Execute("CREATE TABLE IF NOT EXISTS app_hashes (height INTEGER NOT NULL PRIMARY KEY, app_hash BLOB NOT NULL)");
            db.Execute("CREATE TABLE IF NOT EXISTS kept_blocks (block_id BLOB NOT NULL PRIMARY KEY, height INTEGER NOT NULL, block BLOB NOT NULL)");
            db.Execute("CREATE TABLE IF NOT EXISTS commit_proof (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), certificate BLOB NOT NULL)");
            db.Execute("CREATE TABLE IF NOT EXISTS epoch_proofs (epoch INTEGER NOT NULL PRIMARY KEY, proof BLOB NOT NULL)");
            db.Execute("CREATE TABLE IF NOT EXISTS epoch_sets (epoch INTEGER NOT NULL PRIMARY KEY, keys BLOB NOT NULL)");
            Upgrade(db);
            var height = db.GetTable<CommittedBlockRow>().Select(b => (long?)b.Height).Max() ?? 0;
            return new BlockStoreDatabase(db, height, StoredExecutedHeight(db));
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Appends the next height; kept blocks at or below it are no longer needed and go in the same transaction. Its
    /// transaction hashes are indexed later, in batches (<see cref="TransactionIndexFiles.IndexTransactions"/>):
    /// the block body holds them.
    /// </summary>
    public void Append(StoredBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Height != Height + 1)
        {
            throw new InvalidOperationException($"Height {block.Height} cannot follow the stored height {Height}.");
        }

        using (var transaction = _batchOpen ? null : _db.BeginTransaction())
        {
            JoinBatch();
            // app_hash held the app hash in files before version 5; it is recorded in app_hashes, later, since.
            _statements.Execute("INSERT INTO committed_blocks (height, block_id, block, certificate, app_hash) VALUES (@p0, @p1, @p2, @p3, X'')",
                block.Height, block.BlockId, block.Block, block.Certificate);
            _statements.Execute("DELETE FROM kept_blocks WHERE height <= @p0", block.Height);
            transaction?.Commit();
        }

        Height = block.Height;
    }

    /// <summary>
    /// Appends the next height as pruning leaves a block (<paramref name="block"/> holds its pruned form): a node that
    /// starts from a state snapshot holds the chain below the snapshot this way.
    /// </summary>
    public void AppendPruned(StoredBlock block)
    {
        ArgumentNullException.ThrowIfNull(block);
        if (block.Height != Height + 1)
        {
            throw new InvalidOperationException($"Height {block.Height} cannot follow the stored height {Height}.");
        }

        _statements.Execute("INSERT INTO committed_blocks (height, block_id, block, certificate, app_hash, pruned) VALUES (@p0, @p1, @p2, @p3, X'', 1)",
            block.Height, block.BlockId, block.Block, block.Certificate);
        Height = block.Height;
    }

    /// <summary>
    /// The app hash of a state imported from a snapshot at <paramref name="height"/>, before any other is recorded:
    /// the heights below it were never executed here, and execution goes on from it.
    /// </summary>
    public void RecordSnapshotAppHash(long height, byte[] appHash)
    {
        if (ExecutedHeight != 0 || height > Height || height < 1)
        {
            throw new InvalidOperationException($"A snapshot's app hash at {height} needs a store with no app hash recorded ({ExecutedHeight} is) and that height stored ({Height} is).");
        }

        _statements.Execute("INSERT INTO app_hashes (height, app_hash) VALUES (@p0, @p1)", height, appHash);
        ExecutedHeight = height;
    }

    /// <summary>
    /// The app hash after a stored height, the next after <see cref="ExecutedHeight"/>. In an open batch that has
    /// written nothing else it is not written yet: it goes into the next transaction, the next block's, rather than
    /// cost an fsync of its own (one a block, a third of them). Until then this connection answers for it; a crash
    /// before then loses only records the application can give again (each height's app hash is in its state, and the
    /// node records what the store lacks when it starts). Records reach the file in height order, so every height below
    /// the highest recorded there has one too.
    /// </summary>
    public void RecordAppHash(long height, byte[] appHash)
    {
        if (height != ExecutedHeight + 1 || height > Height)
        {
            throw new InvalidOperationException($"An app hash for height {height} cannot follow the one for {ExecutedHeight} with {Height} blocks stored.");
        }

        ExecutedHeight = height;
        _unwrittenAppHashes.Add((height, appHash));
        if (_batchOpen && _batch is null)
        {
            return;
        }

        using var transaction = _batchOpen ? null : _db.BeginTransaction();
        WriteAppHashes();
        transaction?.Commit();
    }

    /// <summary>
    /// Makes the appends and kept blocks until <see cref="WriteBatch.Commit"/> one transaction: with synchronous=FULL
    /// each commit is an fsync, and consensus appends a block and keeps the next one in the same step. A batch that
    /// is disposed uncommitted rolls back and the stored height reads the file again.
    /// </summary>
    public WriteBatch BeginBatch()
    {
        if (_batchOpen)
        {
            throw new InvalidOperationException("A write batch is already open on this block store.");
        }

        _batchOpen = true;
        return new WriteBatch(this);
    }

    /// <summary>
    /// The batch's transaction begins with its first write, so a batch that writes nothing costs nothing; the app
    /// hashes recorded since the last transaction go into it first.
    /// </summary>
    private void JoinBatch()
    {
        if (_batchOpen && _batch is null)
        {
            _batch = _db.BeginTransaction();
            WriteAppHashes();
        }
    }

    private void WriteAppHashes()
    {
        foreach (var (height, appHash) in _unwrittenAppHashes)
        {
            _statements.Execute("INSERT INTO app_hashes (height, app_hash) VALUES (@p0, @p1)", height, appHash);
        }

        _unwrittenAppHashes.Clear();
    }

    public StoredBlock? AtHeight(long height) => ReadStoredBlock($"SELECT {StoredBlockColumns} FROM committed_blocks WHERE height = @p0", height);

    /// <summary>Up to <paramref name="limit"/> blocks at or below <paramref name="height"/> that still have their bodies, lowest first.</summary>
    public List<StoredBlock> UnprunedUpTo(long height, int limit) =>
        [.. _db.GetTable<CommittedBlockRow>().Where(b => b.Height <= height && !b.Pruned).OrderBy(b => b.Height).Take(limit)
            .Select(b => new StoredBlock(b.Height, b.BlockId, b.Block, b.Certificate, b.Pruned))];

    /// <summary>The committed height as the file holds it now, which another connection may have raised.</summary>
    public long StoredHeight() => _db.GetTable<CommittedBlockRow>().Select(b => (long?)b.Height).Max() ?? 0;

    /// <summary>The highest height whose body is pruned, 0 when none is.</summary>
    public long PrunedHeight() => _db.GetTable<CommittedBlockRow>().Where(b => b.Pruned).Select(b => (long?)b.Height).Max() ?? 0;

    /// <summary>Replaces bodies with their pruned form, in one transaction; kept blocks at or below them go too.</summary>
    public void ReplaceWithPruned(IReadOnlyList<(long Height, byte[] Pruned)> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0)
        {
            return;
        }

        using var transaction = _db.BeginTransaction();
        foreach (var (height, pruned) in blocks)
        {
            _db.GetTable<CommittedBlockRow>().Where(b => b.Height == height).Set(b => b.Block, pruned).Set(b => b.Pruned, true).Update();
        }

        var top = blocks.Max(b => b.Height);
        _db.GetTable<KeptBlockRow>().Where(k => k.Height <= top).Delete();
        transaction.Commit();
    }

    /// <summary>
    /// Copies the WAL into the file and truncates it to zero bytes, so that overwritten pages leave no old copy
    /// behind. False when a reader held it and the WAL could not be emptied this time.
    /// </summary>
    public bool CheckpointAndTruncate() => SqliteFile.Checkpoint(_db);

    /// <summary>Only the certificate: consensus asks for it without needing the block.</summary>
    public byte[]? CertificateAt(long height) => (byte[]?)_statements.Scalar("SELECT certificate FROM committed_blocks WHERE height = @p0", height);

    /// <summary>Only the app hash: every proposal's claim is checked against it, and the block may be megabytes.</summary>
    public byte[]? AppHashAt(long height)
    {
        foreach (var (unwritten, appHash) in _unwrittenAppHashes)
        {
            if (unwritten == height)
            {
                return appHash;
            }
        }

        return (byte[]?)_statements.Scalar("SELECT app_hash FROM app_hashes WHERE height = @p0", height);
    }

    public StoredBlock? WithId(byte[] blockId) => ReadStoredBlock($"SELECT {StoredBlockColumns} FROM committed_blocks WHERE block_id = @p0", blockId);

    /// <summary>Block ids from height 1 up to <paramref name="height"/>, in height order.</summary>
    public List<byte[]> BlockIdsUpTo(long height) =>
        [.. _db.GetTable<CommittedBlockRow>().Where(b => b.Height <= height).OrderBy(b => b.Height).Select(b => b.BlockId)];

    public void Keep(byte[] blockId, long height, byte[] block)
    {
        JoinBatch();
        _statements.Execute("INSERT OR REPLACE INTO kept_blocks (block_id, height, block) VALUES (@p0, @p1, @p2)", blockId, height, block);
    }

    /// <summary>The certificate that proved the newest commit, replaced with each commit in the same transaction.</summary>
    public void KeepCommitProof(byte[] certificate)
    {
        JoinBatch();
        _statements.Execute("INSERT OR REPLACE INTO commit_proof (id, certificate) VALUES (1, @p0)", certificate);
    }

    public void KeepEpochProof(long epoch, byte[] proof) =>
        _statements.Execute("INSERT OR REPLACE INTO epoch_proofs (epoch, proof) VALUES (@p0, @p1)", epoch, proof);

    public byte[]? EpochProof(long epoch) => (byte[]?)_statements.Scalar("SELECT proof FROM epoch_proofs WHERE epoch = @p0", epoch);

    public void KeepEpochSet(long epoch, byte[] keys) =>
        _statements.Execute("INSERT OR REPLACE INTO epoch_sets (epoch, keys) VALUES (@p0, @p1)", epoch, keys);

    public byte[]? EpochSet(long epoch) => (byte[]?)_statements.Scalar("SELECT keys FROM epoch_sets WHERE epoch = @p0", epoch);

    public byte[]? CommitProof() => (byte[]?)_statements.Scalar("SELECT certificate FROM commit_proof WHERE id = 1");

    public List<byte[]> KeptBlocks() => [.. _db.GetTable<KeptBlockRow>().Where(k => k.Height > Height).OrderBy(k => k.Height).Select(k => k.Block)];

    /// <summary>Writes the app hashes still waiting for a transaction, so that a clean stop leaves none to record again.</summary>
    public void Dispose()
    {
        try
        {
            if (_unwrittenAppHashes.Count > 0 && !_batchOpen)
            {
                using var transaction = _db.BeginTransaction();
                WriteAppHashes();
                transaction.Commit();
            }
        }
        finally
        {
            _db.Dispose();
        }
    }

    /// <summary>An open <see cref="BeginBatch"/>: commit it, or dispose it to roll back.</summary>
    public sealed class WriteBatch : IDisposable
    {
        private readonly BlockStoreDatabase _store;
        private bool _done;

        internal WriteBatch(BlockStoreDatabase store) => _store = store;

        public void Commit()
        {
            ObjectDisposedException.ThrowIf(_done, this);
            using var transaction = Close();
            try
            {
                transaction?.Commit();
            }
            catch
            {
                _store.ReadHeights();
                throw;
            }
        }

        public void Dispose()
        {
            if (_done)
            {
                return;
            }

            using var transaction = Close();
            if (transaction is not null)
            {
                transaction.Rollback();
                _store.ReadHeights();
            }
        }

        /// <summary>Ends the batch on the store; the transaction, if a write began one, is the caller's to finish.</summary>
        private DataConnectionTransaction? Close()
        {
            _done = true;
            var transaction = _store._batch;
            (_store._batchOpen, _store._batch) = (false, null);
            return transaction;
        }
    }

    /// <summary>
    /// Files written before pruning existed gain the column that marks a pruned body (user_version 1). Files before
    /// version 4 held the transaction index themselves; it is dropped, and the index's own files are built again from
    /// the block bodies, which hold every hash (<see cref="TransactionIndexFiles"/>). Files before version 5 recorded
    /// each block's app hash in its row, written with the block; they move to app_hashes.
    /// </summary>
    private void ReadHeights()
    {
        _unwrittenAppHashes.Clear();
        Height = StoredHeight();
        ExecutedHeight = StoredExecutedHeight(_db);
    }

    private static long StoredExecutedHeight(DataConnection db) => db.Execute<long?>("SELECT MAX(height) FROM app_hashes") ?? 0;

    private static void Upgrade(DataConnection db)
    {
        var version = db.Execute<long>("PRAGMA user_version");
        if (version < 1)
        {
            var hasColumn = db.Execute<long>("SELECT COUNT(*) FROM pragma_table_info('committed_blocks') WHERE name = 'pruned'") > 0;
            if (!hasColumn)
            {
                db.Execute("ALTER TABLE committed_blocks ADD COLUMN pruned INTEGER NOT NULL DEFAULT 0");
            }

            db.Execute("PRAGMA user_version = 1");
        }

        if (version < 4)
        {
            using var transaction = db.BeginTransaction();
            db.Execute("DROP TABLE IF EXISTS committed_transactions");
            db.Execute("DROP TABLE IF EXISTS transaction_index_state");
            db.Execute("PRAGMA user_version = 4");
            transaction.Commit();
        }

        if (version < 5)
        {
            using var transaction = db.BeginTransaction();
            db.Execute("INSERT OR IGNORE INTO app_hashes (height, app_hash) SELECT height, app_hash FROM committed_blocks WHERE length(app_hash) = 32");
            db.Execute("PRAGMA user_version = 5");
            transaction.Commit();
        }
    }

    private StoredBlock? ReadStoredBlock(string sql, object key)
    {
        using var reader = _statements.Read(sql, key);
        return reader.Read()
            ? new StoredBlock(reader.GetInt64(0), (byte[])reader.GetValue(1), (byte[])reader.GetValue(2), (byte[])reader.GetValue(3), reader.GetBoolean(4))
            : null;
    }

    [Table("committed_blocks")]
    private sealed class CommittedBlockRow
    {
        [Column("height"), PrimaryKey]
        public long Height { get; set; }

        [Column("block_id"), NotNull]
        public byte[] BlockId { get; set; } = [];

        [Column("block"), NotNull]
        public byte[] Block { get; set; } = [];

        [Column("certificate"), NotNull]
        public byte[] Certificate { get; set; } = [];

        [Column("pruned"), NotNull]
        public bool Pruned { get; set; }
    }

    [Table("kept_blocks")]
    private sealed class KeptBlockRow
    {
        [Column("block_id"), PrimaryKey]
        public byte[] BlockId { get; set; } = [];

        [Column("height"), NotNull]
        public long Height { get; set; }

        [Column("block"), NotNull]
        public byte[] Block { get; set; } = [];
    }
}
