using System.Globalization;

namespace IdOS.Akka.Engine.Storage.Snapshots;

/// <summary>
/// Snapshots on disk, one folder per height (its offer and its chunks, one file each), the newest
/// <see cref="Keep"/> kept. A folder appears under its height's name only once every file in it is written and
/// synced, so a crash leaves a complete snapshot or a partial folder the next write of that height replaces. Files of
/// an older snapshot are overwritten with zeros before they are deleted: a snapshot holds rows that erasure has since
/// removed from the state, and they should not outlive it in free space more than the file system makes unavoidable.
/// </summary>
public sealed class SnapshotDirectory
{
    private const string OfferFile = "offer";
    private const string PartialSuffix = ".partial";
    private readonly Lock _erasing = new();

    public SnapshotDirectory(string path, int keep)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        Path = path;
        Keep = keep;
        Directory.CreateDirectory(path);
    }

    public string Path { get; }

    public int Keep { get; }

    /// <summary>The heights of the complete snapshots held, newest first.</summary>
    public IReadOnlyList<long> Heights() =>
    [
        .. Directory.EnumerateDirectories(Path)
            .Select(System.IO.Path.GetFileName)
            .Select(name => long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var height) ? height : 0)
            .Where(height => height > 0)
            .OrderDescending(),
    ];

    public SnapshotOffer? Offer(long height)
    {
        var file = System.IO.Path.Combine(Folder(height), OfferFile);
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Never taken, or erased meanwhile.
            return null;
        }

        return SnapshotOffer.TryDecode(bytes, out var refusal)
            ?? throw new InvalidDataException($"{file} is damaged: {refusal}.");
    }

    /// <summary>Chunk <paramref name="index"/> of the snapshot at <paramref name="height"/>, or null if it holds no such chunk.</summary>
    public byte[]? Chunk(long height, int index)
    {
        var file = ChunkFile(Folder(height), index);
        FileStream stream;
        try
        {
            stream = File.OpenRead(file);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        using var _ = stream;
        if (stream.Length > SnapshotManifest.MaxChunkBytes)
        {
            throw new InvalidDataException($"{file} has {stream.Length} bytes, more than any chunk may.");
        }

        var bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        return bytes;
    }

    /// <summary>Starts the snapshot of <paramref name="height"/> afresh (a partial one of a crash is replaced).</summary>
    public Writer Begin(long height)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        var partial = Folder(height) + PartialSuffix;
        if (Directory.Exists(partial))
        {
            Erase(partial);
        }

        Directory.CreateDirectory(partial);
        return new Writer(this, height, partial);
    }

    /// <summary>
    /// Erases every snapshot below <paramref name="height"/>: the retention window's edge, past which no copy of a
    /// removed row may survive.
    /// </summary>
    public int EraseBelow(long height)
    {
        lock (_erasing)
        {
            var old = Heights().Where(h => h < height).ToList();
            foreach (var snapshot in old)
            {
                Erase(Folder(snapshot));
            }

            return old.Count;
        }
    }

    /// <summary>Erases every snapshot but the newest <see cref="Keep"/>, and any partial folder of a height below them.</summary>
    public void Prune()
    {
        lock (_erasing)
        {
            PruneLocked();
        }
    }

    private void PruneLocked()
    {
        var heights = Heights();
        foreach (var height in heights.Skip(Keep))
        {
            Erase(Folder(height));
        }

        var oldestKept = heights.Take(Keep).LastOrDefault();
        foreach (var partial in Directory.EnumerateDirectories(Path, "*" + PartialSuffix))
        {
            var name = System.IO.Path.GetFileName(partial)[..^PartialSuffix.Length];
            if (long.TryParse(name, NumberStyles.None, CultureInfo.InvariantCulture, out var height) && height < oldestKept)
            {
                Erase(partial);
            }
        }
    }

    private string Folder(long height) => System.IO.Path.Combine(Path, height.ToString("D20", CultureInfo.InvariantCulture));

    private static string ChunkFile(string folder, int index) =>
        System.IO.Path.Combine(folder, index.ToString("D8", CultureInfo.InvariantCulture) + ".chunk");

    private static void Erase(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            using (var stream = new FileStream(file, FileMode.Open, FileAccess.Write))
            {
                var zeros = new byte[Math.Min(stream.Length, 1 << 20)];
                for (var left = stream.Length; left > 0; left -= zeros.Length)
                {
                    stream.Write(zeros, 0, (int)Math.Min(left, zeros.Length));
                }

                stream.Flush(flushToDisk: true);
            }

            File.Delete(file);
        }

        Directory.Delete(folder);
    }

    private static void Write(string file, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(file, FileMode.Create, FileAccess.Write);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>One snapshot being written: chunks in any order (a node fetching one gets them so), then the offer.</summary>
    public sealed class Writer
    {
        private readonly SnapshotDirectory _owner;
        private readonly long _height;
        private readonly string _partial;

        internal Writer(SnapshotDirectory owner, long height, string partial)
        {
            _owner = owner;
            _height = height;
            _partial = partial;
        }

        public void Chunk(int index, ReadOnlySpan<byte> bytes)
        {
            ArgumentOutOfRangeException.ThrowIfNegative(index);
            SnapshotDirectory.Write(ChunkFile(_partial, index), bytes);
        }

        public bool Holds(int index) => File.Exists(ChunkFile(_partial, index));

        /// <summary>Writes the offer and makes the snapshot complete under its height's name, then prunes.</summary>
        public void Complete(SnapshotOffer offer)
        {
            ArgumentNullException.ThrowIfNull(offer);
            if (offer.Manifest.Height != _height)
            {
                throw new ArgumentException($"An offer of height {offer.Manifest.Height} for the snapshot of height {_height}.", nameof(offer));
            }

            SnapshotDirectory.Write(System.IO.Path.Combine(_partial, OfferFile), offer.Encode());
            var folder = _owner.Folder(_height);
            lock (_owner._erasing)
            {
                if (Directory.Exists(folder))
                {
                    // The same height taken again (a block executed again after a crash) writes the same snapshot.
                    Erase(folder);
                }

                Directory.Move(_partial, folder);
                _owner.PruneLocked();
            }
        }
    }
}
