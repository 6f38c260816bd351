using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Consensus;
using IdOS.Akka.Engine.Crypto;
using IdOS.Akka.Engine.Tests.Consensus;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Chain;

/// <summary>The consensus block store on a real SQLite file: what is written survives closing and reopening.</summary>
[Trait("Category", "Unit")]
public sealed class SqliteBlockStoreTests : IDisposable
{
    private readonly DirectoryInfo _dir = Directory.CreateTempSubdirectory("idos-blocks-");
    private readonly TestChain _t = new();

    private string DbPath => Path.Combine(_dir.FullName, "node", "blocks.db");

    private string IndexPath => TransactionIndexFiles.PathFor(DbPath);

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
            store.AppendExecuted(b1, b2.Header.Justify, app1);
            store.AppendExecuted(b2, b3.Header.Justify, app2);
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
    public void An_app_hash_recorded_in_a_batch_that_writes_nothing_else_waits_for_the_next_transaction_or_a_clean_close()
    {
        var (b1, b2, b3) = Chain();
        var app1 = Hash32.Compute("app-1"u8);
        var app2 = Hash32.Compute("app-2"u8);
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.Append(b1, b2.Header.Justify);
            store.Append(b2, b3.Header.Justify);
            using (var batch = store.BeginBatch())
            {
                store.RecordAppHash(1, app1);
                batch.Commit();
            }

            // Another connection, which is what a restart after a crash would read, does not see it yet; this one does.
            using (var other = new SqliteBlockStore(DbPath, _t.Chain.Limits))
            {
                Assert.Equal((0L, (Hash32?)null), (other.ExecutedHeight, other.AppHashAt(1)));
            }

            Assert.Equal((1L, (Hash32?)app1), (store.ExecutedHeight, store.AppHashAt(1)));
            using (var batch = store.BeginBatch())
            {
                store.RecordAppHash(2, app2);
                store.Keep(b3);
                batch.Commit();
            }

            using (var other = new SqliteBlockStore(DbPath, _t.Chain.Limits))
            {
                Assert.Equal((2L, (Hash32?)app1, (Hash32?)app2), (other.ExecutedHeight, other.AppHashAt(1), other.AppHashAt(2)));
            }

            store.Append(b3, _t.Block(4, b3).Header.Justify);
            using (var batch = store.BeginBatch())
            {
                store.RecordAppHash(3, Hash32.Compute("app-3"u8));
                batch.Commit();
            }
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);
        Assert.Equal((3L, (Hash32?)Hash32.Compute("app-3"u8)), (reopened.ExecutedHeight, reopened.AppHashAt(3)));
    }

    [Fact]
    public void A_file_from_before_the_index_had_a_file_of_its_own_keeps_every_committed_transaction_and_takes_new_ones()
    {
        var (b1, b2, b3) = Chain();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.AppendExecuted(b1, b2.Header.Justify, Hash32.Compute("app-1"u8));
        }

        // Rewrite the file as the first schema had it: the hashes in a rowid table of the block store's own file.
        Directory.Delete(IndexPath, recursive: true);

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
            upgraded.AppendExecuted(b2, b3.Header.Justify, Hash32.Compute("app-2"u8));
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);
        Assert.Equal(3, reopened.TransactionCount());
        Assert.True(reopened.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
        Assert.True(reopened.ContainsTransaction(Block.TransactionHash(TestChain.Tx(3))));
        Assert.Null(SchemaOf(DbPath, "committed_transactions"));
        Assert.NotEmpty(Directory.GetFiles(IndexPath, "*.run"));
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
            store.AppendExecuted(b1, b2.Header.Justify, Hash32.Zero);

            Assert.True(store.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
            Assert.Equal(2, store.TransactionCount());
        }

        // A crash after the block row and before the index: the row alone, as Append leaves it for the indexer.
        using (var raw = IdOS.Akka.Engine.Chain.BlockStoreDatabase.Open(DbPath))
        {
            raw.Append(new IdOS.Akka.Engine.Chain.StoredBlock(2, b2.Id.ToArray(), ConsensusCodec.EncodeBlock(b2),
                ConsensusCodec.EncodeQc(b3.Header.Justify)));
        }

        using (var index = TransactionIndexFiles.Open(IndexPath))
        {
            Assert.Equal(1, index.IndexedHeight());
        }

        using (var restarted = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            Assert.True(restarted.ContainsTransaction(Block.TransactionHash(TestChain.Tx(3))));
            Assert.Equal(3, restarted.TransactionCount());
            Assert.Equal(3, restarted.AllTransactionHashes().Distinct().Count());
        }

        using var reopened = TransactionIndexFiles.Open(IndexPath);
        Assert.Equal((2, 3), reopened.Counted());
    }

    [Fact]
    public void A_batch_is_indexed_as_one_run_with_its_heights_and_a_gap_is_refused()
    {
        using var db = TransactionIndexFiles.Open(IndexPath);
        db.IndexTransactions([(1, Packed(IndexHashes(1, 4_500))), (2, Packed(IndexHashes(2, 10)))]);

        Assert.Equal((2, 4_510), db.Counted());
        Assert.Equal(1, db.RunCount());
        Assert.True(db.ContainsTransaction(IndexHashes(1, 4_500)[4_499]));
        Assert.True(db.ContainsTransaction(IndexHashes(2, 10)[0]));
        Assert.False(db.ContainsTransaction(IndexHashes(3, 1)[0]));
        Assert.Throws<InvalidOperationException>(() => db.IndexTransactions([(4, Packed(IndexHashes(4, 1)))]));
        Assert.Throws<ArgumentException>(() => db.IndexTransactions([(3, new byte[33])]));
        Assert.Equal(2, db.IndexedHeight());
    }

    [Fact]
    public void Runs_of_one_tier_merge_until_they_are_large_and_every_hash_is_found_meanwhile_and_after_a_reopen()
    {
        var compaction = new RunCompaction(FanIn: 2, TierBase: 100, MaxRunRows: 1_000);
        var indexed = new List<byte[]>();
        using (var db = TransactionIndexFiles.Open(IndexPath, compaction))
        {
            var merges = 0;
            for (var height = 1; height <= 12; height++)
            {
                var hashes = IndexHashes(height, 300);
                db.IndexTransactions([(height, Packed(hashes))]);
                merges += db.Compact();
                indexed.AddRange(hashes);
                Assert.True(db.ContainsTransaction(hashes[^1]));
                Assert.True(db.ContainsTransaction(indexed[0]));
            }

            // Runs of 300 merge in pairs into runs of 600, which are past 1,000 ÷ 2 and merge no more.
            Assert.Equal(6, merges);
            Assert.Equal(6, db.RunCount());
        }

        Assert.Equal(6, Directory.GetFiles(IndexPath).Length);
        using var reopened = TransactionIndexFiles.Open(IndexPath, compaction);
        Assert.All(indexed, hash => Assert.True(reopened.ContainsTransaction(hash)));
        Assert.False(reopened.ContainsTransaction(IndexHashes(13, 1)[0]));
        Assert.Equal((12, 3_600), reopened.Counted());
        var all = new List<byte[]>();
        Assert.Equal(12, reopened.ForEachHash(hash => all.Add(hash.ToArray())));
        Assert.Equal(3_600, all.Distinct(ByteArrays.Instance).Count());
    }

    [Fact]
    public void A_run_of_more_hashes_than_its_write_buffer_holds_checks_out_whole_after_a_reopen()
    {
        // 2.1 MiB of hashes: the writer fills its 1 MiB buffer twice and writes the rest at the end.
        var hashes = IndexHashes(1, 70_000);
        using (var db = TransactionIndexFiles.Open(IndexPath))
        {
            db.IndexTransactions([(1, Packed(hashes))]);
        }

        using var reopened = TransactionIndexFiles.Open(IndexPath);
        Assert.Equal(1, reopened.RunCount());
        Assert.Equal((1, 70_000), reopened.Counted());
        Assert.All(hashes, hash => Assert.True(reopened.ContainsTransaction(hash)));
    }

    [Fact]
    public void Hashes_that_share_their_first_eight_bytes_across_pages_are_all_found()
    {
        // 300 hashes with one first word fill three pages whose first hashes all begin alike.
        byte[] Shared(int i, byte last)
        {
            var hash = new byte[32];
            BitConverter.GetBytes(i).CopyTo(hash, 20);
            hash[31] = last;
            return hash;
        }

        using var db = TransactionIndexFiles.Open(IndexPath);
        db.IndexTransactions([(1, Packed([.. Enumerable.Range(0, 300).Select(i => Shared(i, 1))]))]);

        Assert.All(Enumerable.Range(0, 300), i => Assert.True(db.ContainsTransaction(Shared(i, 1))));
        Assert.All(Enumerable.Range(0, 300), i => Assert.False(db.ContainsTransaction(Shared(i, 2))));
    }

    [Fact]
    public void A_run_that_does_not_check_out_goes_with_every_run_above_it_and_a_finished_merge_leaves_no_duplicate()
    {
        var compaction = new RunCompaction(FanIn: 2, TierBase: 100, MaxRunRows: 1_000_000);
        using (var db = TransactionIndexFiles.Open(IndexPath, compaction))
        {
            db.IndexTransactions([(1, Packed(IndexHashes(1, 300)))]);
            db.IndexTransactions([(2, Packed(IndexHashes(2, 300)))]);
            var inputs = Directory.GetFiles(IndexPath).ToDictionary(file => file, File.ReadAllBytes);
            Assert.Equal(1, db.Compact());

            // A crash after the merged run was in place and before its inputs were deleted.
            foreach (var (file, bytes) in inputs)
            {
                File.WriteAllBytes(file, bytes);
            }

            db.IndexTransactions([(3, Packed(IndexHashes(3, 10)))]);
            db.IndexTransactions([(4, Packed(IndexHashes(4, 10)))]);
        }

        using (var reopened = TransactionIndexFiles.Open(IndexPath, compaction))
        {
            Assert.Equal((4, 620), reopened.Counted());
            Assert.Equal(3, reopened.RunCount());
        }

        // One flipped bit in height 3's run: it and the run above it go, and those heights can be indexed again.
        var third = Directory.GetFiles(IndexPath).Single(file => Path.GetFileName(file).StartsWith("0000000000000000003-", StringComparison.Ordinal));
        var damaged = File.ReadAllBytes(third);
        damaged[5] ^= 1;
        File.WriteAllBytes(third, damaged);
        using var repaired = TransactionIndexFiles.Open(IndexPath, compaction);
        Assert.Equal((2, 600), repaired.Counted());
        Assert.False(repaired.ContainsTransaction(IndexHashes(4, 10)[0]));
        repaired.IndexTransactions([(3, Packed(IndexHashes(3, 10))), (4, Packed(IndexHashes(4, 10)))]);
        Assert.True(repaired.ContainsTransaction(IndexHashes(4, 10)[9]));
    }

    [Fact]
    public void An_index_file_from_before_runs_were_files_is_deleted_and_the_block_bodies_are_indexed_again()
    {
        var (b1, b2, _) = Chain();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.AppendExecuted(b1, b2.Header.Justify, Hash32.Zero);
        }

        Directory.Delete(IndexPath, recursive: true);
        File.WriteAllBytes(IndexPath + ".db", [1, 2, 3]);
        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);

        Assert.True(reopened.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
        Assert.Equal(2, reopened.TransactionCount());
        Assert.False(File.Exists(IndexPath + ".db"));
    }

    private static byte[][] IndexHashes(int block, int count) =>
        [.. Enumerable.Range(0, count).Select(i => Hash32.Compute(BitConverter.GetBytes((block * 100_000) + i)).ToArray())];

    private static byte[] Packed(byte[][] hashes) => [.. hashes.SelectMany(hash => hash)];

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

        Assert.Throws<InvalidOperationException>(() => store.AppendExecuted(b2, b3.Header.Justify, Hash32.Zero));
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
            store.AppendExecuted(b1, b2.Header.Justify, Hash32.Zero);
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);

        Assert.Equal([b2.Id, b3.Id], reopened.KeptBlocks().Select(b => b.Id));
    }

    [Fact]
    public void A_write_batch_commits_appends_and_kept_blocks_together_and_indexes_them_only_after_the_commit()
    {
        var (b1, b2, b3) = Chain();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        using (var reader = BlockStoreDatabase.Open(DbPath))
        {
            using (var batch = store.BeginBatch())
            {
                store.AppendExecuted(b1, b2.Header.Justify, Hash32.Zero);
                store.Keep(b2);

                Assert.Equal(1, store.Height);
                Assert.True(store.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
                Assert.Equal(0, reader.StoredHeight());
                batch.Commit();
            }

            Assert.Equal(1, reader.StoredHeight());
            Assert.Single(reader.KeptBlocks());
            store.AppendExecuted(b2, b3.Header.Justify, Hash32.Zero);
        }

        using var index = TransactionIndexFiles.Open(IndexPath);
        Assert.Equal((2, 3), index.Counted());
    }

    [Fact]
    public void A_write_batch_that_rolls_back_leaves_no_block_and_no_committed_transaction_behind()
    {
        var (b1, b2, _) = Chain();
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            using (store.BeginBatch())
            {
                store.AppendExecuted(b1, b2.Header.Justify, Hash32.Zero);
                store.Keep(b2);
            }

            Assert.Equal(0, store.Height);
            Assert.False(store.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
            Assert.Equal(0, store.TransactionCount());
            Assert.Empty(store.KeptBlocks());

            // The same height again: the index writer must never have seen the rolled-back one.
            store.AppendExecuted(b1, b2.Header.Justify, Hash32.Zero);
            Assert.True(store.ContainsTransaction(Block.TransactionHash(TestChain.Tx(1))));
        }

        using var index = TransactionIndexFiles.Open(IndexPath);
        Assert.Equal((1, 2), index.Counted());
    }

    [Fact]
    public void A_replica_resumes_from_the_store_at_its_committed_height_and_certificate()
    {
        var (b1, b2, b3) = Chain();
        var b4 = _t.Block(4, b3);
        using (var store = new SqliteBlockStore(DbPath, _t.Chain.Limits))
        {
            store.AppendExecuted(b1, b2.Header.Justify, Hash32.Compute("app"u8));
            store.Keep(b2);
            store.Keep(b3);
            store.Keep(b4);
        }

        using var reopened = new SqliteBlockStore(DbPath, _t.Chain.Limits);
        var replica = new Replica(_t.Chain, 0, _t.Keys[0], Ed25519Verifier.Instance, reopened,
            SafetyState.Initial(_t.Chain), reopened.KeptBlocks());

        Assert.Equal(1, replica.CommittedHeight);
        Assert.Equal(b1.Id, replica.HighQc.BlockId);
        var effects = replica.Start(TestChain.GenesisTime + 10_000);

        Assert.Equal([b2.Id], effects.OfType<BlockCommitted>().Select(c => c.Block.Id));
        Assert.Equal(2, reopened.Height);
        Assert.Equal([b3.Id, b4.Id], reopened.KeptBlocks().Select(b => b.Id));
    }
}
