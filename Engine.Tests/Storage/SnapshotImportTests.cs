using IdOS.Akka.Engine.Storage;
using IdOS.Akka.Engine.Storage.Execution;
using IdOS.Akka.Engine.Storage.Schema;
using IdOS.Akka.Engine.Storage.Snapshots;
using LinqToDB;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>
/// Snapshots taken by execution on its schedule and put into an empty state: the app hash at a snapshot height
/// commits to the root, an import gives the same state (the next block executes to the same app hash), and nothing a
/// sender could change gets past the checks.
/// </summary>
public abstract class SnapshotImportTests<TStore> : OnStateStore<TStore>
    where TStore : ITestStateStore, new()
{
    private readonly PinnedScript _script = new();
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("idos-snapshots-");
    private readonly TStore _target = new();

    [Fact]
    public void At_a_snapshot_height_the_app_hash_folds_in_the_root_of_the_state_there_and_the_snapshot_is_kept_on_disk()
    {
        byte[] plain;
        using (var other = new TStore())
        using (var state = StateDatabase.Open(other.Options))
        {
            plain = _script.Run(state);
        }

        using var source = StateDatabase.Open(Options);
        var folded = _script.Run(source, Schedule());
        var root = StateSnapshot.Write(source, (_, _) => { }, chunkBytes: 2048).Root;

        var offer = Assert.IsType<SnapshotOffer>(Snapshots().Offer(3));
        Assert.Equal([3L], Snapshots().Heights());
        Assert.Equal(plain, offer.BlockAppHash);
        Assert.Equal(root, offer.Manifest.Root);
        Assert.Equal(offer.AppHash, folded);
        Assert.NotEqual(plain, folded);
        Assert.Equal(folded, ExecutedBlocks.AppHashAt(source.Connection, 3));
        Assert.True(offer.Manifest.ChunkHashes.Count > 1);
        for (var i = 0; i < offer.Manifest.ChunkHashes.Count; i++)
        {
            Assert.Equal(offer.Manifest.ChunkHashes[i], System.Security.Cryptography.SHA256.HashData(Snapshots().Chunk(3, i)!));
        }
    }

    [Fact]
    public void An_imported_snapshot_is_the_same_state_the_next_block_executes_to_the_same_app_hash_on_both()
    {
        using var source = StateDatabase.Open(Options);
        var folded = _script.Run(source, Schedule());
        var offer = Snapshots().Offer(3)!;

        using var target = StateDatabase.Open(_target.Options);
        SnapshotImport.Import(target, offer, Certified(folded), index => Snapshots().Chunk(3, index));

        Assert.Equal(3, ExecutedBlocks.Height(target.Connection));
        Assert.Equal(folded, ExecutedBlocks.AppHashAt(target.Connection, 3));
        Assert.Equal(offer.Manifest.Root, StateSnapshot.Write(target, (_, _) => { }, chunkBytes: 2048).Root);
        Assert.Empty(target.Connection.GetTable<RowChangeRow>());
        var next = _script.NextBlock();
        Assert.Equal(_script.Executor(source).Execute(next, folded), _script.Executor(target).Execute(next, folded));
        Assert.Equal(2, target.Connection.GetTable<InserterRow>().Count());
    }

    [Fact]
    public void A_chunk_that_is_not_the_listed_one_is_refused_by_its_index_and_the_state_stays_empty()
    {
        using var source = StateDatabase.Open(Options);
        var folded = _script.Run(source, Schedule());
        var offer = Snapshots().Offer(3)!;

        using var target = StateDatabase.Open(_target.Options);
        var refused = Assert.Throws<SnapshotChunkException>(() => SnapshotImport.Import(target, offer, Certified(folded), index =>
        {
            var chunk = Snapshots().Chunk(3, index)!;
            if (index == 1)
            {
                chunk[^1] ^= 1;
            }

            return chunk;
        }));

        Assert.Equal(1, refused.Index);
        Assert.Equal(0, ExecutedBlocks.Height(target.Connection));
        Assert.Empty(target.Connection.GetTable<UserRow>());
        Assert.Empty(target.Connection.GetTable<AccountRow>());
    }

    [Fact]
    public void An_offer_that_does_not_give_the_certified_app_hash_is_refused_before_any_chunk_is_read()
    {
        using var source = StateDatabase.Open(Options);
        var folded = _script.Run(source, Schedule());
        var offer = Snapshots().Offer(3)!;
        var forged = offer with { Manifest = offer.Manifest with { Rows = offer.Manifest.Rows + 1 } };
        var otherBlock = offer with { BlockAppHash = new byte[32] };

        using var target = StateDatabase.Open(_target.Options);
        foreach (var lie in new[] { forged, otherBlock })
        {
            var refused = Assert.Throws<SnapshotRefusedException>(() => SnapshotImport.Import(target, lie, Certified(folded),
                _ => throw new InvalidOperationException("no chunk may be read")));
            Assert.Contains("where the chain certified", refused.Message, StringComparison.Ordinal);
        }

        Assert.Throws<SnapshotRefusedException>(() => SnapshotImport.Import(target, offer, Certified(folded) with { Height = 4 }, index => Snapshots().Chunk(3, index)));
    }

    [Fact]
    public void A_state_that_holds_anything_refuses_a_snapshot()
    {
        using var source = StateDatabase.Open(Options);
        var folded = _script.Run(source, Schedule());
        var offer = Snapshots().Offer(3)!;

        var refused = Assert.Throws<SnapshotRefusedException>(() => SnapshotImport.Import(source, offer, Certified(folded), index => Snapshots().Chunk(3, index)));

        Assert.Contains("empty state", refused.Message, StringComparison.Ordinal);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _script.Dispose();
            _target.Dispose();
            _folder.Delete(recursive: true);
        }

        base.Dispose(disposing);
    }

    private SnapshotSchedule Schedule() => new(3, Snapshots(), ChunkBytes: 2048);

    private SnapshotDirectory Snapshots() => new(_folder.FullName, keep: 2);

    private static CertifiedHeight Certified(byte[] appHash) => new(3, [3], 1_700_000_002_000, appHash);
}

[Trait("Category", "Unit")]
public sealed class SqliteSnapshotImportTests : SnapshotImportTests<SqliteTestFile>;

[Trait("Category", "Postgres")]
public sealed class PostgresSnapshotImportTests : SnapshotImportTests<PostgresTestSchema>;
