using System.Buffers.Binary;
using System.Security.Cryptography;

namespace IdOS.Akka.Engine.Storage.Snapshots;

/// <summary>
/// What a snapshot of the state holds, without its rows: the height it was taken at, how many rows, the chunk size
/// and the SHA-256 of each chunk in order. <see cref="Root"/> commits to all of it, so a root the chain certifies makes
/// every chunk checkable on its own, whoever sent it.
/// </summary>
public sealed record SnapshotManifest(long Height, long Rows, int ChunkBytes, IReadOnlyList<byte[]> ChunkHashes)
{
    public const int MinChunkBytes = 64;

    /// <summary>
    /// A chunk ends at the row that reaches its size, so it may run over by one row: at most this much, which one
    /// message between validators carries (a chunk size is at most half of it, a row no larger than a transaction).
    /// </summary>
    public const int MaxChunkBytes = 4 << 20;

    /// <summary>A 1 TB state in 1 MiB chunks; bounds what a decoder allocates for a peer's manifest.</summary>
    public const int MaxChunks = 1 << 20;

    private const byte Version = 1;
    private const int FixedBytes = 1 + 8 + 8 + 4 + 4;
    private static readonly byte[] Domain = "idos-state-snapshot-v1"u8.ToArray();

    public byte[] Root
    {
        get
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            Span<byte> number = stackalloc byte[8];
            hash.AppendData(Domain);
            BinaryPrimitives.WriteInt64BigEndian(number, Height);
            hash.AppendData(number);
            BinaryPrimitives.WriteInt64BigEndian(number, Rows);
            hash.AppendData(number);
            BinaryPrimitives.WriteInt64BigEndian(number, ChunkBytes);
            hash.AppendData(number);
            BinaryPrimitives.WriteInt64BigEndian(number, ChunkHashes.Count);
            hash.AppendData(number);
            foreach (var chunk in ChunkHashes)
            {
                hash.AppendData(chunk);
            }

            return hash.GetHashAndReset();
        }
    }

    public byte[] Encode()
    {
        var bytes = new byte[FixedBytes + (32 * ChunkHashes.Count)];
        bytes[0] = Version;
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(1), Height);
        BinaryPrimitives.WriteInt64BigEndian(bytes.AsSpan(9), Rows);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(17), ChunkBytes);
        BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(21), ChunkHashes.Count);
        for (var i = 0; i < ChunkHashes.Count; i++)
        {
            ChunkHashes[i].CopyTo(bytes.AsSpan(FixedBytes + (32 * i)));
        }

        return bytes;
    }

    /// <summary>The manifest <see cref="Encode"/> wrote, or null with the reason; every count is checked against the length before anything is allocated.</summary>
    public static SnapshotManifest? TryDecode(ReadOnlySpan<byte> bytes, out string? refusal)
    {
        refusal = bytes.Length < FixedBytes ? $"a manifest takes at least {FixedBytes} bytes, not {bytes.Length}"
            : bytes[0] != Version ? $"manifest version {bytes[0]} is not {Version}"
            : null;
        if (refusal is not null)
        {
            return null;
        }

        var height = BinaryPrimitives.ReadInt64BigEndian(bytes[1..]);
        var rows = BinaryPrimitives.ReadInt64BigEndian(bytes[9..]);
        var chunkBytes = BinaryPrimitives.ReadInt32BigEndian(bytes[17..]);
        var count = BinaryPrimitives.ReadInt32BigEndian(bytes[21..]);
        refusal = height < 1 ? $"height {height} is not a height a snapshot is taken at"
            : rows < 0 ? $"{rows} rows"
            : chunkBytes is < MinChunkBytes or > MaxChunkBytes ? $"chunk size {chunkBytes} is outside {MinChunkBytes}..{MaxChunkBytes}"
            : count is < 0 or > MaxChunks ? $"{count} chunks is outside 0..{MaxChunks}"
            : bytes.Length != FixedBytes + (32L * count) ? $"{count} chunk hashes take {FixedBytes + (32L * count)} bytes, not {bytes.Length}"
            : (rows == 0) != (count == 0) ? $"{rows} rows in {count} chunks"
            : null;
        if (refusal is not null)
        {
            return null;
        }

        var hashes = new byte[count][];
        for (var i = 0; i < count; i++)
        {
            hashes[i] = bytes.Slice(FixedBytes + (32 * i), 32).ToArray();
        }

        return new SnapshotManifest(height, rows, chunkBytes, hashes);
    }
}

/// <summary>
/// A snapshot as a node offers it: the manifest and the app hash its height's block gave before the snapshot was
/// folded in. The app hash recorded at a snapshot height is <see cref="AppHash"/>, which commits to the manifest's root,
/// so the chain's certificate over that app hash certifies every chunk. The block's own app hash is no secret (every
/// validator computes it) and need not be trusted: with a certified app hash, <see cref="IsCertifiedBy"/> checks it.
/// </summary>
public sealed record SnapshotOffer(SnapshotManifest Manifest, byte[] BlockAppHash)
{
    private static readonly byte[] Domain = "idos-akka/app-hash/snapshot-v1"u8.ToArray();

    /// <summary>The app hash recorded at the snapshot's height: the block's own, then the manifest's root.</summary>
    public byte[] AppHash
    {
        get
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(Domain);
            hash.AppendData(BlockAppHash);
            hash.AppendData(Manifest.Root);
            return hash.GetHashAndReset();
        }
    }

    public bool IsCertifiedBy(ReadOnlySpan<byte> certifiedAppHash) => certifiedAppHash.SequenceEqual(AppHash);

    public byte[] Encode() => [.. BlockAppHash, .. Manifest.Encode()];

    public static SnapshotOffer? TryDecode(ReadOnlySpan<byte> bytes, out string? refusal)
    {
        if (bytes.Length < 32)
        {
            refusal = $"an offer takes at least 32 bytes, not {bytes.Length}";
            return null;
        }

        return SnapshotManifest.TryDecode(bytes[32..], out refusal) is { } manifest ? new SnapshotOffer(manifest, bytes[..32].ToArray()) : null;
    }
}
