using IdOS.Akka.Engine.Storage.Snapshots;
using Xunit;

namespace IdOS.Akka.Engine.Tests.Storage;

/// <summary>Snapshots on disk: complete or absent, the newest kept, and a peer's manifest decoded within its bounds.</summary>
[Trait("Category", "Unit")]
public sealed class SnapshotDirectoryTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("idos-snapshot-files-");

    [Fact]
    public void A_snapshot_appears_only_once_complete_and_only_the_newest_are_kept()
    {
        var snapshots = new SnapshotDirectory(_folder.FullName, keep: 2);
        foreach (var height in new long[] { 10, 20, 30 })
        {
            var writer = snapshots.Begin(height);
            writer.Chunk(1, [2]);
            writer.Chunk(0, [1]);
            if (height == 30)
            {
                Assert.Equal([20L, 10L], snapshots.Heights());
                Assert.Null(snapshots.Offer(30));
            }

            writer.Complete(Offer(height, [[1], [2]]));
        }

        Assert.Equal([30L, 20L], snapshots.Heights());
        Assert.Equal([2], snapshots.Chunk(30, 1));
        Assert.Null(snapshots.Chunk(30, 2));
        Assert.Null(snapshots.Offer(10));
        Assert.Equal(Offer(30, [[1], [2]]).Manifest.Root, snapshots.Offer(30)!.Manifest.Root);
        Assert.Equal(2, _folder.GetDirectories().Length);
    }

    [Fact]
    public void A_partial_snapshot_left_by_a_crash_is_replaced_when_its_height_is_written_again()
    {
        var snapshots = new SnapshotDirectory(_folder.FullName, keep: 2);
        snapshots.Begin(10).Chunk(5, [9]);

        var writer = snapshots.Begin(10);
        Assert.False(writer.Holds(5));
        writer.Chunk(0, [1]);
        writer.Complete(Offer(10, [[1]]));

        Assert.Equal([10L], snapshots.Heights());
        Assert.Null(snapshots.Chunk(10, 5));
    }

    [Fact]
    public void An_offer_decodes_to_itself_and_a_malformed_one_is_refused_with_its_reason()
    {
        var offer = Offer(10_000, [[1], [2], [3]]);
        var bytes = offer.Encode();

        var decoded = SnapshotOffer.TryDecode(bytes, out var refusal);
        Assert.Null(refusal);
        Assert.Equal(offer.AppHash, decoded!.AppHash);

        Assert.Null(SnapshotOffer.TryDecode(bytes.AsSpan(0, bytes.Length - 1), out refusal));
        Assert.Contains("chunk hashes take", refusal, StringComparison.Ordinal);
        var manyChunks = (byte[])bytes.Clone();
        manyChunks[32 + 21] = 0x7f;
        Assert.Null(SnapshotOffer.TryDecode(manyChunks, out refusal));
        Assert.Contains("chunks is outside", refusal, StringComparison.Ordinal);
        var noHeight = (byte[])bytes.Clone();
        noHeight.AsSpan(33, 8).Clear();
        Assert.Null(SnapshotOffer.TryDecode(noHeight, out refusal));
        Assert.Contains("height 0", refusal, StringComparison.Ordinal);
        Assert.Null(SnapshotOffer.TryDecode(bytes.AsSpan(0, 20), out refusal));
    }

    public void Dispose() => _folder.Delete(recursive: true);

    private static SnapshotOffer Offer(long height, byte[][] chunks) =>
        new(new SnapshotManifest(height, chunks.Length, 1024, [.. chunks.Select(c => System.Security.Cryptography.SHA256.HashData(c))]), new byte[32]);
}
