using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using LinqToDB;
using LinqToDB.Data;
using Microsoft.Data.Sqlite;

namespace IdOS.Akka.Engine.Storage.Blocks;

/// <summary>
/// The hashes of committed transactions, in a SQLite file of their own beside the block store. The index trails the
/// blocks (<see cref="IndexTransactions"/>) and what it lacks is rebuilt from the block bodies above
/// <see cref="IndexedHeight"/>, so it needs no durability of its own (synchronous=NORMAL). It has its own file
/// because its writes held the file's write lock, and in the block store's file every append waited for them.
/// <para>
/// Hashes are random, so a batch inserted into one large B-tree rewrote nearly every leaf page of it (~50 MB for a
/// batch of 30,000 into a tree of 400,000) and cost 3× the CPU a hash (docs/BENCHMARKS.md). Each batch is
/// therefore a sorted run of its own — a new table filled in key order, which writes each page once — and runs of
/// similar size are merged, a handful at a time, in one sorted pass (<see cref="Compact"/>), the way a log-structured
/// merge tree does. A lookup, which the node makes only when its in-memory filter says "maybe", asks each run.
/// </para>
/// </summary>
public sealed class TransactionIndexDatabase : IDisposable
{
    private readonly DataConnection _db;
    private readonly PreparedStatements _statements;
    private readonly RunCompaction _compaction;
    private readonly List<long> _runs = [];
    private readonly Dictionary<long, SqliteCommand> _lookups = [];
    private long _runsVersion = -1;

    private TransactionIndexDatabase(DataConnection db, RunCompaction compaction)
    {
        _db = db;
        _compaction = compaction;
        _statements = PreparedStatements.Of(db);
    }

    /// <summary>The index file that belongs to the block store at <paramref name="blockStorePath"/>.</summary>
    public static string PathFor(string blockStorePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blockStorePath);
        var full = Path.GetFullPath(blockStorePath);
        return Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + "-index.db");
    }

    /// <param name="path">The file.</param>
    /// <param name="compaction">When runs merge; tests make runs small.</param>
    public static TransactionIndexDatabase Open(string path, RunCompaction? compaction = null)
    {
        // The consensus thread reads and the index writer writes, each on a connection of its own.
        var db = SqliteFile.Open(path, "synchronous=NORMAL", "busy_timeout=30000");
        try
        {
            CreateSchema(db);
            return new TransactionIndexDatabase(db, compaction ?? RunCompaction.Default);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The index's tables (a block store that held its own index copies it into run 0 after this). Files written before
    /// runs held "generations": tables filled by batches of 2,000 that a crash could cut short. Each becomes a run,
    /// without the hashes above the indexed height, which are indexed again from the block bodies.
    /// </summary>
    private static void CreateSchema(DataConnection db)
    {
        using var transaction = db.BeginTransaction();
        // A write first, so that this transaction holds the write lock before it reads what it migrates.
        db.Execute("CREATE TABLE IF NOT EXISTS transaction_index_state (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), indexed_height INTEGER NOT NULL)");
        db.Execute("INSERT OR IGNORE INTO transaction_index_state (id, indexed_height) VALUES (1, 0)");
        if (!HasColumn(db, "generation"))
        {
            db.Execute("ALTER TABLE transaction_index_state ADD COLUMN generation INTEGER NOT NULL DEFAULT 0");
        }

        if (!HasColumn(db, "runs_version"))
        {
            db.Execute("ALTER TABLE transaction_index_state ADD COLUMN runs_version INTEGER NOT NULL DEFAULT 0");
            db.Execute("CREATE TABLE transaction_index_runs (id INTEGER NOT NULL PRIMARY KEY, rows INTEGER NOT NULL)");
            var indexed = db.Execute<long>("SELECT indexed_height FROM transaction_index_state WHERE id = 1");
            var generations = db.Execute<long>("SELECT generation FROM transaction_index_state WHERE id = 1");
            for (var generation = 0L; generation <= generations; generation++)
            {
                var table = RunTable(generation);
                db.Execute($"CREATE TABLE IF NOT EXISTS {table} (hash BLOB NOT NULL PRIMARY KEY, height INTEGER NOT NULL) WITHOUT ROWID");
                if (generation == generations)
                {
                    db.Execute($"DELETE FROM {table} WHERE height > @indexed", new DataParameter("indexed", indexed));
                }

                db.Execute($"INSERT INTO transaction_index_runs (id, rows) SELECT @id, COUNT(*) FROM {table}", new DataParameter("id", generation));
            }
        }

        transaction.Commit();
    }

    /// <summary>Records how many hashes run 0 holds after a block store copied its old index into it.</summary>
    internal static void RecountFirstRun(DataConnection db, string schema) =>
        db.Execute($"UPDATE {schema}.transaction_index_runs SET rows = (SELECT COUNT(*) FROM {schema}.{RunTable(0)}) WHERE id = 0");

    /// <summary>The height up to which every committed block's transaction hashes are in the index.</summary>
    public long IndexedHeight() => (long)_statements.Scalar("SELECT indexed_height FROM transaction_index_state WHERE id = 1")!;

    /// <summary>How many runs the index holds now.</summary>
    public int RunCount() => (int)(long)_statements.Scalar("SELECT COUNT(*) FROM transaction_index_runs")!;

    /// <summary>
    /// Streams indexed transaction hashes (of blocks up to <paramref name="maxHeight"/>), for the in-memory filter a
    /// node builds at start. One read transaction spans the enumeration, so a merge meanwhile neither hides nor repeats any.
    /// </summary>
    public IEnumerable<byte[]> AllTransactionHashes(long maxHeight = long.MaxValue)
    {
        using var transaction = _db.BeginTransaction();
        LearnRuns();
        foreach (var run in _runs.ToList())
        {
            foreach (var hash in _db.Query(reader => (byte[])reader.GetValue(0), $"SELECT hash FROM {RunTable(run)} WHERE height <= @height", new DataParameter("height", maxHeight)))
            {
                yield return hash;
            }
        }
    }

    /// <summary>Indexed transactions of blocks up to <paramref name="maxHeight"/>; counted from the runs' sizes when that covers everything indexed.</summary>
    public long TransactionCount(long maxHeight = long.MaxValue)
    {
        using var transaction = _db.BeginTransaction();
        if (maxHeight >= IndexedHeight())
        {
            return (long)_statements.Scalar("SELECT COALESCE(SUM(rows), 0) FROM transaction_index_runs")!;
        }

        LearnRuns();
        return _runs.Sum(run => _db.Execute<long>($"SELECT COUNT(*) FROM {RunTable(run)} WHERE height <= @height", new DataParameter("height", maxHeight)));
    }

    /// <summary>Whether the hash is indexed; the newest runs are asked first.</summary>
    public bool ContainsTransaction(byte[] hash)
    {
        using var transaction = _db.BeginTransaction();
        LearnRuns();
        foreach (var run in _runs)
        {
            if (!_lookups.TryGetValue(run, out var lookup))
            {
                lookup = (SqliteCommand)_db.OpenDbConnection().CreateCommand();
                lookup.CommandText = $"SELECT 1 FROM {RunTable(run)} WHERE hash = $hash";
                lookup.Parameters.Add("$hash", SqliteType.Blob);
                _lookups[run] = lookup;
            }

            lookup.Transaction = (SqliteTransaction?)_db.Transaction;
            lookup.Parameters[0].Value = hash;
            if (lookup.ExecuteScalar() is not null)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Indexes the transaction hashes of committed blocks, which must continue from <see cref="IndexedHeight"/> in
    /// height order, as one new run, and raises the indexed height in the same transaction: a crash leaves all of a
    /// batch or none of it. Each block's hashes are given as one buffer of 32-byte hashes. The rows go in in hash
    /// order, by one statement that reads them out of two parameters: binding and stepping a statement per row took
    /// ~1.6× the CPU for the same rows (a scratch comparison, 2026-11-24).
    /// </summary>
    public void IndexTransactions(IReadOnlyList<(long Height, ReadOnlyMemory<byte> Hashes)> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0)
        {
            return;
        }

        var indexed = IndexedHeight();
        var rows = 0;
        for (var i = 0; i < blocks.Count; i++)
        {
            if (blocks[i].Height != indexed + 1 + i)
            {
                throw new InvalidOperationException($"Height {blocks[i].Height} cannot be indexed after height {indexed + i}.");
            }

            if (blocks[i].Hashes.Length % HashSize != 0)
            {
                throw new ArgumentException($"Block {blocks[i].Height}'s hashes are {blocks[i].Hashes.Length} bytes, not a multiple of {HashSize}.", nameof(blocks));
            }

            rows += blocks[i].Hashes.Length / HashSize;
        }

        var (hashes, heights) = SortedRows(blocks, rows);
        using var transaction = _db.BeginTransaction();
        var run = NextRunId();
        CreateRunTable(run);
        var inserted = ExecuteOnce(
            $"INSERT OR IGNORE INTO {RunTable(run)} (hash, height) SELECT substr($p0, key * {HashSize} + 1, {HashSize}), value FROM json_each($p1)",
            hashes,
            heights);
        ExecuteOnce("INSERT INTO transaction_index_runs (id, rows) VALUES ($p0, $p1)", run, (long)inserted);
        ExecuteOnce("UPDATE transaction_index_state SET indexed_height = $p0, runs_version = runs_version + 1 WHERE id = 1", blocks[^1].Height);
        transaction.Commit();
    }

    /// <summary>
    /// Merges runs until no size tier holds <see cref="RunCompaction.FanIn"/> of them, so that the number of runs a
    /// lookup asks grows with the logarithm of the chain's length until runs reach their largest size. Returns how many
    /// merges it made.
    /// </summary>
    public int Compact()
    {
        var merges = 0;
        while (MergeCandidates() is { } candidates)
        {
            Merge(candidates);
            merges++;
        }

        return merges;
    }

    public void Dispose()
    {
        foreach (var lookup in _lookups.Values)
        {
            lookup.Dispose();
        }

        _db.Dispose();
    }

    private const int HashSize = 32;

    private static string RunTable(long run) =>
        run == 0 ? "committed_transactions" : FormattableString.Invariant($"committed_transactions_{run}");

    private static bool HasColumn(DataConnection db, string column) =>
        db.Execute<long>("SELECT COUNT(*) FROM pragma_table_info('transaction_index_state') WHERE name = @name", new DataParameter("name", column)) > 0;

    /// <summary>The rows in hash order: their hashes end to end, and their heights as a JSON array for <c>json_each</c>.</summary>
    private static (byte[] Hashes, string Heights) SortedRows(IReadOnlyList<(long Height, ReadOnlyMemory<byte> Hashes)> blocks, int rows)
    {
        var unsorted = new byte[rows * HashSize];
        var blockOf = new int[rows];
        var next = 0;
        for (var b = 0; b < blocks.Count; b++)
        {
            blocks[b].Hashes.Span.CopyTo(unsorted.AsSpan(next * HashSize));
            var count = blocks[b].Hashes.Length / HashSize;
            blockOf.AsSpan(next, count).Fill(b);
            next += count;
        }

        // The first eight bytes order the rows well enough: the order only decides which pages an insert touches.
        var keys = new ulong[rows];
        var order = new int[rows];
        for (var i = 0; i < rows; i++)
        {
            keys[i] = BinaryPrimitives.ReadUInt64BigEndian(unsorted.AsSpan(i * HashSize));
            order[i] = i;
        }

        Array.Sort(keys, order);
        var sorted = new byte[rows * HashSize];
        var heights = new StringBuilder((rows * 8) + 2).Append('[');
        for (var i = 0; i < rows; i++)
        {
            unsorted.AsSpan(order[i] * HashSize, HashSize).CopyTo(sorted.AsSpan(i * HashSize));
            heights.Append(i == 0 ? "" : ",").Append(blocks[blockOf[order[i]]].Height.ToString(CultureInfo.InvariantCulture));
        }

        return (sorted, heights.Append(']').ToString());
    }

    /// <summary>
    /// Brings the list of runs up to date, inside the caller's read transaction: a merge drops the runs it merged, so
    /// a list read outside the transaction could name a table that no longer exists. Empty runs (run 0 of a new file,
    /// which merges only with small runs) are not asked.
    /// </summary>
    private void LearnRuns()
    {
        var version = (long)_statements.Scalar("SELECT runs_version FROM transaction_index_state WHERE id = 1")!;
        if (version == _runsVersion)
        {
            return;
        }

        _runs.Clear();
        using (var reader = _statements.Read("SELECT id FROM transaction_index_runs WHERE rows > 0 ORDER BY id DESC"))
        {
            while (reader.Read())
            {
                _runs.Add(reader.GetInt64(0));
            }
        }

        foreach (var gone in _lookups.Keys.Where(run => !_runs.Contains(run)).ToList())
        {
            _lookups[gone].Dispose();
            _lookups.Remove(gone);
        }

        _runsVersion = version;
    }

    private long NextRunId() => (long)_statements.Scalar("SELECT COALESCE(MAX(id), 0) + 1 FROM transaction_index_runs")!;

    private void CreateRunTable(long run) =>
        _db.Execute($"CREATE TABLE {RunTable(run)} (hash BLOB NOT NULL PRIMARY KEY, height INTEGER NOT NULL) WITHOUT ROWID");

    /// <summary>The oldest <see cref="RunCompaction.FanIn"/> runs of the smallest tier that has that many, among runs not yet at their largest size.</summary>
    private List<long>? MergeCandidates()
    {
        var runs = new List<(long Id, long Rows)>();
        using (var reader = _statements.Read("SELECT id, rows FROM transaction_index_runs ORDER BY id"))
        {
            while (reader.Read())
            {
                runs.Add((reader.GetInt64(0), reader.GetInt64(1)));
            }
        }

        return runs
            .Where(run => _compaction.Mergeable(run.Rows))
            .GroupBy(run => _compaction.Tier(run.Rows))
            .Where(tier => tier.Count() >= _compaction.FanIn)
            .OrderBy(tier => tier.Key)
            .Select(tier => tier.Take(_compaction.FanIn).Select(run => run.Id).ToList())
            .FirstOrDefault();
    }

    /// <summary>One sorted pass: SQLite merges the runs' ordered scans (a compound SELECT ordered by the key), and the new run fills its pages in order.</summary>
    private void Merge(List<long> runs)
    {
        using var transaction = _db.BeginTransaction();
        var merged = NextRunId();
        CreateRunTable(merged);
        var sources = string.Join(" UNION ALL ", runs.Select(run => $"SELECT hash, height FROM {RunTable(run)}"));
        var rows = ExecuteOnce($"INSERT OR IGNORE INTO {RunTable(merged)} (hash, height) {sources} ORDER BY hash");
        foreach (var run in runs)
        {
            _db.Execute($"DROP TABLE {RunTable(run)}");
        }

        _db.Execute($"DELETE FROM transaction_index_runs WHERE id IN ({string.Join(",", runs)})");
        ExecuteOnce("INSERT INTO transaction_index_runs (id, rows) VALUES ($p0, $p1)", merged, (long)rows);
        ExecuteOnce("UPDATE transaction_index_state SET runs_version = runs_version + 1 WHERE id = 1");
        transaction.Commit();
    }

    /// <summary>A statement whose text names a run, so there is nothing to gain from keeping it prepared.</summary>
    private int ExecuteOnce(string sql, params ReadOnlySpan<object> values)
    {
        using var command = (SqliteCommand)_db.OpenDbConnection().CreateCommand();
        command.CommandText = sql;
        command.Transaction = (SqliteTransaction?)_db.Transaction;
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters.AddWithValue(FormattableString.Invariant($"$p{i}"), values[i]);
        }

        return command.ExecuteNonQuery();
    }
}

/// <summary>
/// When runs of the transaction index merge. A run's tier is the power of <see cref="FanIn"/> its size reaches above
/// <see cref="TierBase"/>; <see cref="FanIn"/> runs of one tier merge into one. A run larger than
/// <see cref="MaxRunRows"/> ÷ <see cref="FanIn"/> merges no more, which bounds the size (and time) of a merge.
/// </summary>
/// <param name="FanIn">How many runs merge at once.</param>
/// <param name="TierBase">The size below which every run is in the lowest tier.</param>
/// <param name="MaxRunRows">The largest run a merge makes.</param>
public sealed record RunCompaction(int FanIn, long TierBase, long MaxRunRows)
{
    /// <summary>
    /// Runs of up to 4 million hashes (~190 MB, a merge of ~2.5 s of CPU): at 15,000 commands/s a 2 s batch is ~30,000
    /// hashes, 8 batches merge into ~240,000 and 8 of those into ~1.9 million, which merge no more. A chain of 100
    /// million transactions has ~50 such runs and fewer than 8 in each smaller tier.
    /// </summary>
    public static RunCompaction Default { get; } = new(8, 4_096, 1 << 22);

    internal bool Mergeable(long rows) => rows * FanIn <= MaxRunRows;

    internal int Tier(long rows)
    {
        var tier = 0;
        for (var bound = TierBase; rows >= bound; bound *= FanIn)
        {
            tier++;
        }

        return tier;
    }
}
