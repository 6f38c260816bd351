using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Hosting;
using IdOS.Akka.Engine.Simulation;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>The consensus block store on a real SQLite file: what is written survives closing and reopening.</summary>
[Trait("Category", "Unit")]
public sealed class SqliteBlockStoreTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-blocks-");
    private readonly TestChain _t = new();

    private string DbPath => Path.Combine(_dir.FullName, "node", "blocks.db");

    private string IndexPath => IdOS.Akka.Engine.Storage.Blocks.TransactionIndexDatabase.PathFor(DbPath);

    public void Dispose() => _dir.Delete(recursive: true);

    private (Block B1, Block B2, Block B3) Chain()
    {
        var b1 = _t.Block(1, _t.Chain.GenesisBlock, _t.Chain.GenesisQc, [TestChain.Tx(1), TestChain.Tx(2)]);
        var b2 = _t.Block(2, b1, transactions: [TestChain.Tx(3)]);
        return (b1, b2, _t.Block(3, b2));
    }

    [Fact]
    public void Committed_blocks_certificates_app_hashes_and_transactions_survive_a_reopen()
    {
        var (b1, b2, b3) = Chain();
        var app1 = Hash32.Compute("app-1"u8);
        var app2 = Hash32.Compute("app-2"u8);
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.Append(b1, b2.Header.Justify, app1);
            store.Append(b2, b3.Header.Justify, app2);
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);

        Assert.Equal(2, reopened.Height);
        Assert.Equal(ConsensusCodec.EncodeBlock(b2), ConsensusCodec.EncodeBlock(reopened.GetByHeight(2)!));
        Assert.Equal(b1.Id, reopened.GetById(b1.Id)!.Id);
        Assert.Null(reopened.GetById(b3.Id));
        Assert.Equal(ConsensusCodec.EncodeQc(b3.Header.Justify), ConsensusCodec.EncodeQc(reopened.CertificateAt(2)!));
        Assert.Equal(app1, reopened.AppHashAt(1));
        Assert.True(reopened.ContainsTransaction(Block.TransactionHash(TestChain.Tx(3))));
        Assert.False(reopened.ContainsTransaction(Block.TransactionHash(TestChain.Tx(4))));
        Assert.Null(reopened.GetByHeight(3));
    }

    [Fact]
    public void A_file_from_before_the_index_had_a_file_of_its_own_keeps_every_committed_transaction_and_takes_new_ones()
    {
        var (b1, b2, b3) = Chain();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.Append(b1, b2.Header.Justify, Hash32.Compute("app-1"u8));
        }

        // Rewrite the file as the first schema had it: the hashes in a rowid table of the block store's own file.
        foreach (var file in new[] { IndexPath, IndexPath + "-wal", IndexPath + "-shm" })
        {
            File.Delete(file);
        }

        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = """
                CREATE TABLE committed_transactions (hash BLOB NOT NULL PRIMARY KEY, height INTEGER NOT NULL);
                INSERT INTO committed_transactions (hash, height) VALUES ($tx1, 1), ($tx2, 1);
                PRAGMA user_version = 1;
                """;
            command.Parameters.AddWithValue("$tx1", Block.TransactionHash(TestChain.Tx(1)).ToArray());
            command.Parameters.AddWithValue("$tx2", Block.TransactionHash(TestChain.Tx(2)).ToArray());
            command.ExecuteNonQuery();
        }

        using (var upgraded = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            Assert.True(upgraded.ContainsTransaction(Block.TransactionHash(TestChain.Tx(2))));
            upgraded.Append(b2, b3.Header.Justify, Hash32.Compute("app-2"u8));
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);
        Assert.Equal(3, reopened.TransactionCount());
        Assert.True(reopened.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
        Assert.True(reopened.ContainsTransaction(Block.TransactionHash(TestChain.Tx(3))));
        Assert.Null(SchemaOf(DbPath, "committed_transactions"));
        Assert.Contains("WITHOUT ROWID", SchemaOf(IndexPath, "committed_transactions"), StringComparison.Ordinal);
    }

    private static string? SchemaOf(string path, string table)
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={path};Pooling=False");
        connection.Open();
        using var schema = connection.CreateCommand();
        schema.CommandText = "SELECT sql FROM sqlite_master WHERE name = $table";
        schema.Parameters.AddWithValue("$table", table);
        return (string?)schema.ExecuteScalar();
    }

    [Fact]
    public void A_commit_is_known_at_once_and_blocks_a_crash_left_unindexed_are_indexed_from_their_bodies_on_the_next_start()
    {
        var (b1, b2, b3) = Chain();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.Append(b1, b2.Header.Justify, Hash32.Zero);

            Assert.True(store.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
            Assert.Equal(2, store.TransactionCount());
        }

        // A crash after the block row and before the index: the row alone, as Append leaves it for the indexer.
        using (var raw = IdOS.Akka.Engine.Storage.Blocks.BlockStoreDatabase.Open(DbPath))
        {
            raw.Append(new IdOS.Akka.Engine.Storage.Blocks.StoredBlock(2, b2.Id.ToArray(), ConsensusCodec.EncodeBlock(b2),
                ConsensusCodec.EncodeQc(b3.Header.Justify), Hash32.Zero.ToArray()));
        }

        using (var index = IdOS.Akka.Engine.Storage.Blocks.TransactionIndexDatabase.Open(IndexPath))
        {
            Assert.Equal(1, index.IndexedHeight());
        }

        using (var restarted = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            Assert.True(restarted.ContainsTransaction(Block.TransactionHash(TestChain.Tx(3))));
            Assert.Equal(3, restarted.TransactionCount());
            Assert.Equal(3, restarted.AllTransactionHashes().Distinct().Count());
        }

        using var reopened = IdOS.Akka.Engine.Storage.Blocks.TransactionIndexDatabase.Open(IndexPath);
        Assert.Equal(2, reopened.IndexedHeight());
        Assert.Equal(3, reopened.TransactionCount());
    }

    [Fact]
    public void A_large_batch_is_indexed_in_chunks_and_a_batch_a_crash_cut_short_can_be_indexed_again()
    {
        using var db = IdOS.Akka.Engine.Storage.Blocks.TransactionIndexDatabase.Open(IndexPath);
        byte[][] Hashes(int block, int count) => [.. Enumerable.Range(0, count).Select(i => Hash32.Compute(BitConverter.GetBytes((block * 100_000) + i)).ToArray())];
        db.IndexTransactions([(1, Hashes(1, 4_500)), (2, Hashes(2, 10))]);

        Assert.Equal(2, db.IndexedHeight());
        Assert.Equal(4_510, db.TransactionCount());

        // As if the process had died after the first chunks of this batch: the marker still says 1.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={IndexPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE transaction_index_state SET indexed_height = 1";
            command.ExecuteNonQuery();
        }

        db.IndexTransactions([(2, Hashes(2, 10))]);

        Assert.Equal(2, db.IndexedHeight());
        Assert.Equal(4_510, db.TransactionCount());
        Assert.Throws<InvalidOperationException>(() => db.IndexTransactions([(4, Hashes(4, 1))]));
    }

    [Fact]
    public void The_index_starts_a_new_generation_between_batches_and_a_reader_opened_before_finds_hashes_in_it()
    {
        byte[][] Hashes(int block, int count) => [.. Enumerable.Range(0, count).Select(i => Hash32.Compute(BitConverter.GetBytes((block * 100_000) + i)).ToArray())];
        using var writer = IdOS.Akka.Engine.Storage.Blocks.TransactionIndexDatabase.Open(IndexPath, generationRows: 100);
        using var reader = IdOS.Akka.Engine.Storage.Blocks.TransactionIndexDatabase.Open(IndexPath, generationRows: 100);

        writer.IndexTransactions([(1, Hashes(1, 150))]);
        writer.IndexTransactions([(2, Hashes(2, 30)), (3, Hashes(3, 30))]);
        writer.IndexTransactions([(4, Hashes(4, 10))]);

        // 150 went into the first generation (a batch is never split), 60 into the second, 10 into the second too.
        Assert.Equal(2, GenerationTables());
        Assert.True(reader.ContainsTransaction(Hashes(4, 10)[9]));
        Assert.True(reader.ContainsTransaction(Hashes(1, 150)[0]));
        Assert.False(reader.ContainsTransaction(Hashes(5, 1)[0]));
        Assert.Equal(220, reader.TransactionCount());
        Assert.Equal(150, reader.TransactionCount(maxHeight: 1));
        Assert.Equal(220, reader.AllTransactionHashes().Distinct(ByteArrays.Instance).Count());

        // A batch cut short by a crash is indexed again into the same generation, not counted twice.
        using (var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={IndexPath};Pooling=False"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE transaction_index_state SET indexed_height = 3";
            command.ExecuteNonQuery();
        }

        writer.IndexTransactions([(4, Hashes(4, 10))]);
        Assert.Equal(220, reader.TransactionCount());
    }

    private int GenerationTables()
    {
        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={IndexPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name LIKE 'committed_transactions%'";
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private sealed class ByteArrays : IEqualityComparer<byte[]>
    {
        public static readonly ByteArrays Instance = new();

        public bool Equals(byte[]? x, byte[]? y) => x.AsSpan().SequenceEqual(y);

        public int GetHashCode(byte[] obj) => BitConverter.ToInt32(obj, 0);
    }

    [Fact]
    public void The_file_is_in_write_ahead_log_mode()
    {
        using (new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
        }

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={DbPath};Pooling=False");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode";

        Assert.Equal("wal", command.ExecuteScalar());
    }

    [Fact]
    public void Heights_are_appended_in_order_only()
    {
        var (_, b2, b3) = Chain();
        using var store = new SqliteBlockStore(DbPath, _t.Chain.Limits);

        Assert.Throws<InvalidOperationException>(() => store.Append(b2, b3.Header.Justify, Hash32.Zero));
        Assert.Equal(0, store.Height);
    }

    [Fact]
    public void Kept_blocks_come_back_after_a_reopen_until_their_height_is_committed()
    {
        var (b1, b2, b3) = Chain();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.Keep(b1);
            store.Keep(b2);
            store.Keep(b2);
            store.Keep(b3);
            store.Append(b1, b2.Header.Justify, Hash32.Zero);
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);

        Assert.Equal([b2.Id, b3.Id], reopened.KeptBlocks().Select(b => b.Id));
    }

    [Fact]
    public void A_replica_resumes_from_the_store_at_its_committed_height_and_certificate()
    {
        var (b1, b2, b3) = Chain();
        var b4 = _t.Block(4, b3);
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.Append(b1, b2.Header.Justify, Hash32.Compute("app"u8));
            store.Keep(b2);
            store.Keep(b3);
            store.Keep(b4);
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);
        var replica = new Replica(_t.Chain, 0, _t.Keys[0], Ed25519Verifier.Instance, reopened,
            new HashChainStateMachine(1, reopened.AppHashAt(1)!.Value), SafetyState.Initial(_t.Chain), reopened.KeptBlocks());

        Assert.Equal(1, replica.CommittedHeight);
        Assert.Equal(b1.Id, replica.HighQc.BlockId);
        var effects = replica.Start(TestChain.GenesisTime + 10_000);

        Assert.Equal([b2.Id], effects.OfType<BlockCommitted>().Select(c => c.Block.Id));
        Assert.Equal(2, reopened.Height);
        Assert.Equal([b3.Id, b4.Id], reopened.KeptBlocks().Select(b => b.Id));
    }
}
