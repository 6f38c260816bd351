using LinqToDB;
using LinqToDB.Data;
using Microsoft.Data.Sqlite;

namespace IdOS.Akka.Engine.Storage.Blocks;

/// <summary>
/// The hashes of committed transactions, in a SQLite file of their own beside the block store. The index trails the
/// blocks (<see cref="IndexTransactions"/>) and what it lacks is rebuilt from the block bodies above
/// <see cref="IndexedHeight"/>, so it needs no durability of its own (synchronous=NORMAL). It has its own file
/// because an index batch inserts into pages all over one large B-tree (hashes are random) and holds the file's write
/// lock meanwhile: in the block store's file, every append waited for it, and at block size 400 each validator
/// stalled ~200 ms every two seconds (docs/BENCHMARKS.md). The hashes go into generations of bounded size: a batch of
/// random hashes rewrites nearly every leaf page of the B-tree it goes into, so with one table the cost of a batch grew
/// with the length of the chain; a new generation starts once the current one holds <see cref="GenerationRows"/>
/// hashes, and lookups, which the node makes only when its in-memory filter says "maybe", ask each generation.
/// </summary>
public sealed class TransactionIndexDatabase : IDisposable
{
    private const int IndexChunk = 2_000;

    /// <summary>
    /// About 5,000 leaf pages (40 bytes a row): a batch of 30,000 hashes (2 s at 15,000 commands/s) shares each page
    /// among several inserts, and a chain of 100 million transactions has 200 generations to ask on a lookup.
    /// </summary>
    public const long GenerationRows = 1 << 19;

    private readonly DataConnection _db;
    private readonly PreparedStatements _statements;
    private readonly long _generationRows;
    private readonly List<string> _generations = [];
    private long _currentGenerationRows = -1;
    private SqliteCommand? _insertHash;
    private string? _insertTable;

    private TransactionIndexDatabase(DataConnection db, long generationRows)
    {
        _db = db;
        _generationRows = generationRows;
        _statements = PreparedStatements.Of(db);
        LearnGenerations();
    }

    /// <summary>The index file that belongs to the block store at <paramref name="blockStorePath"/>.</summary>
    public static string PathFor(string blockStorePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blockStorePath);
        var full = Path.GetFullPath(blockStorePath);
        return Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + "-index.db");
    }

    /// <param name="path">The file.</param>
    /// <param name="generationRows">Hashes per generation; tests make it small.</param>
    public static TransactionIndexDatabase Open(string path, long generationRows = GenerationRows)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(generationRows, 1);
        // The consensus thread reads and the index writer writes, each on a connection of its own.
        var db = SqliteFile.Open(path, "synchronous=NORMAL", "busy_timeout=30000");
        try
        {
            CreateSchema(db, "main");
            return new TransactionIndexDatabase(db, generationRows);
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>The index's tables in the database <paramref name="schema"/> of <paramref name="db"/> (an attached one while a block store moves its old index here).</summary>
    internal static void CreateSchema(DataConnection db, string schema)
    {
        db.Execute($"CREATE TABLE IF NOT EXISTS {schema}.{GenerationTable(0)} (hash BLOB NOT NULL PRIMARY KEY, height INTEGER NOT NULL) WITHOUT ROWID");
        db.Execute($"CREATE TABLE IF NOT EXISTS {schema}.transaction_index_state (id INTEGER NOT NULL PRIMARY KEY CHECK (id = 1), indexed_height INTEGER NOT NULL)");
        db.Execute($"INSERT OR IGNORE INTO {schema}.transaction_index_state (id, indexed_height) VALUES (1, 0)");
        if (db.Execute<long>($"SELECT COUNT(*) FROM {schema}.pragma_table_info('transaction_index_state') WHERE name = 'generation'") == 0)
        {
            db.Execute($"ALTER TABLE {schema}.transaction_index_state ADD COLUMN generation INTEGER NOT NULL DEFAULT 0");
        }
    }

    /// <summary>The height up to which every committed block's transaction hashes are in the index.</summary>
    public long IndexedHeight() => (long)_statements.Scalar("SELECT indexed_height FROM transaction_index_state WHERE id = 1")!;

    /// <summary>Streams indexed transaction hashes (of blocks up to <paramref name="maxHeight"/>), for the in-memory filter a node builds at start.</summary>
    public IEnumerable<byte[]> AllTransactionHashes(long maxHeight = long.MaxValue)
    {
        LearnGenerations();
        return _generations.ToList().SelectMany(table =>
            _db.Query(reader => (byte[])reader.GetValue(0), $"SELECT hash FROM {table} WHERE height <= @height", new DataParameter("height", maxHeight)));
    }

    /// <summary>Indexed transactions of blocks up to <paramref name="maxHeight"/>.</summary>
    public long TransactionCount(long maxHeight = long.MaxValue)
    {
        LearnGenerations();
        return _generations.Sum(table => (long)_statements.Scalar($"SELECT COUNT(*) FROM {table} WHERE height <= @p0", maxHeight)!);
    }

    /// <summary>Whether the hash is indexed; the newest generations are asked first, and a writer's new ones are learnt on a miss.</summary>
    public bool ContainsTransaction(byte[] hash)
    {
        var known = _generations.Count;
        for (var i = known - 1; i >= 0; i--)
        {
            if (_statements.Exists($"SELECT 1 FROM {_generations[i]} WHERE hash = @p0", hash))
            {
                return true;
            }
        }

        LearnGenerations();
        for (var i = _generations.Count - 1; i >= known; i--)
        {
            if (_statements.Exists($"SELECT 1 FROM {_generations[i]} WHERE hash = @p0", hash))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Indexes the transaction hashes of committed blocks, which must continue from <see cref="IndexedHeight"/> in
    /// height order, and raises it with the last of its transactions. The hashes go into one B-tree keyed by hash, in
    /// hash order, through one prepared statement: hashes are random, so each insert lands on its own page, and the
    /// fewer and larger the batches, the more inserts share a page (docs/BENCHMARKS.md has the figures).
    /// </summary>
    public void IndexTransactions(IReadOnlyList<(long Height, IReadOnlyList<byte[]> Hashes)> blocks)
    {
        ArgumentNullException.ThrowIfNull(blocks);
        if (blocks.Count == 0)
        {
            return;
        }

        var indexed = IndexedHeight();
        for (var i = 0; i < blocks.Count; i++)
        {
            if (blocks[i].Height != indexed + 1 + i)
            {
                throw new InvalidOperationException($"Height {blocks[i].Height} cannot be indexed after height {indexed + i}.");
            }
        }

        var rows = blocks.SelectMany(b => b.Hashes.Select(hash => (Hash: hash, b.Height))).ToArray();
        Array.Sort(rows, (a, b) => a.Hash.AsSpan().SequenceCompareTo(b.Hash));
        // A new generation starts only between batches, so that a batch a crash cut short is indexed again into the
        // generation that holds its first chunks, where OR IGNORE drops what is already there.
        LearnGenerations();
        if (_currentGenerationRows < 0)
        {
            _currentGenerationRows = (long)_statements.Scalar($"SELECT COUNT(*) FROM {_generations[^1]}")!;
        }

        if (_currentGenerationRows >= _generationRows)
        {
            StartGeneration();
        }

        if (_insertHash is null || _insertTable != _generations[^1])
        {
            _insertHash?.Dispose();
            _insertTable = _generations[^1];
            // OR IGNORE: a crash between two chunks leaves some hashes indexed above indexed_height, indexed again after.
            _insertHash = (SqliteCommand)_db.OpenDbConnection().CreateCommand();
            _insertHash.CommandText = $"INSERT OR IGNORE INTO {_generations[^1]} (hash, height) VALUES ($hash, $height)";
            _insertHash.Parameters.Add("$hash", SqliteType.Blob);
            _insertHash.Parameters.Add("$height", SqliteType.Integer);
        }

        // Chunks of the sorted rows are contiguous key ranges, so splitting the batch writes no page twice, and the
        // consensus thread's lookups, which read beside this connection, see each chunk as soon as it commits.
        for (var start = 0; start < rows.Length || start == 0; start += IndexChunk)
        {
            using var transaction = _db.BeginTransaction();
            _insertHash.Transaction = (SqliteTransaction?)_db.Transaction;
            foreach (var (hash, height) in rows.AsSpan(start, Math.Min(IndexChunk, rows.Length - start)))
            {
                _insertHash.Parameters[0].Value = hash;
                _insertHash.Parameters[1].Value = height;
                _currentGenerationRows += _insertHash.ExecuteNonQuery();
            }

            if (start + IndexChunk >= rows.Length)
            {
                _statements.Execute("UPDATE transaction_index_state SET indexed_height = @p0 WHERE id = 1", blocks[^1].Height);
            }

            transaction.Commit();
        }
    }

    public void Dispose()
    {
        _insertHash?.Dispose();
        _db.Dispose();
    }

    private static string GenerationTable(long generation) =>
        generation == 0 ? "committed_transactions" : FormattableString.Invariant($"committed_transactions_{generation}");

    /// <summary>Brings the list of generations up to the number the file records (the writer may have started one).</summary>
    private void LearnGenerations()
    {
        var current = (long)_statements.Scalar("SELECT generation FROM transaction_index_state WHERE id = 1")!;
        while (_generations.Count <= current)
        {
            _generations.Add(GenerationTable(_generations.Count));
        }
    }

    private void StartGeneration()
    {
        var next = _generations.Count;
        using var transaction = _db.BeginTransaction();
        _db.Execute($"CREATE TABLE {GenerationTable(next)} (hash BLOB NOT NULL PRIMARY KEY, height INTEGER NOT NULL) WITHOUT ROWID");
        _statements.Execute("UPDATE transaction_index_state SET generation = @p0 WHERE id = 1", (long)next);
        transaction.Commit();
        _generations.Add(GenerationTable(next));
        _currentGenerationRows = 0;
    }
}
