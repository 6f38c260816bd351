using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;
using Microsoft.Win32.SafeHandles;

namespace IdOS.Akka.Engine.Chain;

/// <summary>
/// The hashes of committed transactions, as sorted runs in flat files in a directory beside the block store. The index
/// trails the blocks (<see cref="IndexTransactions"/>) and what it lacks is rebuilt from the block bodies above
/// <see cref="IndexedHeight"/>: a run that does not check out at start (torn, cut short, or its checksum wrong) is
/// deleted with every run above it, and those heights are indexed again. A run is fsynced before it is renamed into
/// place, so a merge's inputs go only after the run that replaces them is durable, and a rebuild stays rare.
/// <para>
/// Each batch of blocks becomes one run: its hashes sorted, end to end, then a trailer with the heights it covers and a
/// SHA-256 of it all. Runs of one size tier that cover consecutive heights merge, a handful at a time, in one streaming
/// pass (<see cref="Compact"/>), as in a log-structured merge tree. A run's pages of 128 hashes are found through the
/// first eight bytes of each page's first hash, held in memory (8 bytes per 4 KiB of index), so a lookup, which the node
/// makes only when its in-memory filter says "maybe", reads one page per run. SQLite tables did the same job at ~3.4×
/// the CPU per hash, most of it in B-tree inserts and in the WAL's second copy of every page.
/// </para>
/// One instance serves the consensus thread's lookups and the index writer's thread: runs are immutable, and the list
/// of them is swapped under a lock that lookups hold while they read.
/// </summary>
public sealed class TransactionIndexFiles : IDisposable
{
    private const int HashSize = 32;
    private const int PageHashes = 128;
    private const int TrailerSize = 64;
    private const string RunExtension = ".run";
    private const string PartialExtension = ".partial";
    private const int StreamBuffer = 1 << 20;

    private readonly string _directory;
    private readonly RunCompaction _compaction;
    private readonly Lock _gate = new();
    private readonly byte[] _page = new byte[PageHashes * HashSize];
    private List<Run> _runs;
    private bool _disposed;

    private TransactionIndexFiles(string directory, RunCompaction compaction, List<Run> runs)
    {
        _directory = directory;
        _compaction = compaction;
        _runs = runs;
    }

    private static ReadOnlySpan<byte> Magic => "IDOSTXR1"u8;

    /// <summary>The index directory that belongs to the block store at <paramref name="blockStorePath"/>.</summary>
    public static string PathFor(string blockStorePath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(blockStorePath);
        var full = Path.GetFullPath(blockStorePath);
        return Path.Combine(Path.GetDirectoryName(full)!, Path.GetFileNameWithoutExtension(full) + "-index");
    }

    /// <summary>
    /// Opens the index in <paramref name="directory"/>, checking every run in full. An index from before runs were files
    /// (a SQLite file <c>&lt;directory&gt;.db</c>) is deleted: the block bodies hold every hash it had.
    /// </summary>
    /// <param name="directory">The index directory, created if missing.</param>
    /// <param name="compaction">When runs merge; tests make runs small.</param>
    public static TransactionIndexFiles Open(string directory, RunCompaction? compaction = null)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        Directory.CreateDirectory(directory);
        foreach (var legacy in new[] { ".db", ".db-wal", ".db-shm" })
        {
            File.Delete(directory + legacy);
        }

        foreach (var partial in Directory.EnumerateFiles(directory, "*" + PartialExtension))
        {
            File.Delete(partial);
        }

        var loaded = new List<Run>();
        foreach (var file in Directory.EnumerateFiles(directory, "*" + RunExtension))
        {
            if (Run.Load(file) is { } run)
            {
                loaded.Add(run);
            }
            else
            {
                File.Delete(file);
            }
        }

        return new TransactionIndexFiles(directory, compaction ?? RunCompaction.Default, Contiguous(loaded));
    }

    /// <summary>The height up to which every committed block's transaction hashes are in the index.</summary>
    public long IndexedHeight()
    {
        lock (_gate)
        {
            return Top(_runs);
        }
    }

    /// <summary>How many runs the index holds now.</summary>
    public int RunCount()
    {
        lock (_gate)
        {
            return _runs.Count;
        }
    }

    /// <summary>The indexed height and the number of hashes up to it, read together.</summary>
    public (long IndexedHeight, long TransactionCount) Counted()
    {
        lock (_gate)
        {
            return (Top(_runs), _runs.Sum(run => run.Count));
        }
    }

    /// <summary>
    /// Hands every indexed hash to <paramref name="visit"/>, holding off merges meanwhile, and returns the indexed
    /// height the hashes are complete up to.
    /// </summary>
    public long ForEachHash(HashVisitor visit)
    {
        ArgumentNullException.ThrowIfNull(visit);
        lock (_gate)
        {
            var buffer = new byte[StreamBuffer];
            foreach (var run in _runs)
            {
                foreach (var chunk in Chunks(run.Handle, run.Count, buffer))
                {
                    for (var at = 0; at < chunk.Length; at += HashSize)
                    {
                        visit(chunk.Span.Slice(at, HashSize));
                    }
                }
            }

            return Top(_runs);
        }
    }

    /// <summary>Whether the hash is indexed; the newest runs are asked first.</summary>
    public bool ContainsTransaction(ReadOnlySpan<byte> hash)
    {
        if (hash.Length != HashSize)
        {
            throw new ArgumentException($"A transaction hash is {HashSize} bytes, not {hash.Length}.", nameof(hash));
        }

        lock (_gate)
        {
            for (var i = _runs.Count - 1; i >= 0; i--)
            {
                if (_runs[i].Contains(hash, _page))
                {
                    return true;
                }
            }

            return false;
        }
    }

    /// <summary>
    /// Indexes the transaction hashes of committed blocks, which must continue from <see cref="IndexedHeight"/> in
    /// height order, as one new run. Each block's hashes are given as one buffer of 32-byte hashes.
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

        var keys = new HashKey[rows];
        var next = 0;
        foreach (var (_, hashes) in blocks)
        {
            for (var at = 0; at < hashes.Length; at += HashSize)
            {
                keys[next++] = HashKey.Read(hashes.Span.Slice(at, HashSize));
            }
        }

        Array.Sort(keys);
        var run = WriteRun(indexed + 1, blocks[^1].Height, keys);
        lock (_gate)
        {
            _runs = [.. _runs, run];
        }
    }

    /// <summary>
    /// Merges runs until no size tier holds <see cref="RunCompaction.FanIn"/> consecutive runs, so that the number of
    /// runs a lookup asks grows with the logarithm of the chain's length until runs reach their largest size. Returns
    /// how many merges it made.
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
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            foreach (var run in _runs)
            {
                run.Dispose();
            }
        }
    }

    private static long Top(List<Run> runs) => runs.Count == 0 ? 0 : runs[^1].Last;

    /// <summary>A run's <paramref name="count"/> hashes in order, a buffer at a time (each chunk is valid until the next).</summary>
    private static IEnumerable<ReadOnlyMemory<byte>> Chunks(SafeFileHandle handle, long count, byte[] buffer)
    {
        for (long at = 0; at < count;)
        {
            var hashes = (int)Math.Min(buffer.Length / HashSize, count - at);
            var chunk = buffer.AsMemory(0, hashes * HashSize);
            if (RandomAccess.Read(handle, chunk.Span, at * HashSize) != chunk.Length)
            {
                throw new IOException($"A run of the transaction index ended early, at hash {at} of {count}.");
            }

            yield return chunk;
            at += hashes;
        }
    }

    /// <summary>
    /// The runs that chain from height 1 without a gap. A run inside another's heights is the leftover input of a merge
    /// that finished; a run past a gap, or overlapping another, lost what came before it and goes with the gap.
    /// </summary>
    private static List<Run> Contiguous(List<Run> loaded)
    {
        var chain = new List<Run>();
        var expected = 1L;
        foreach (var run in loaded.OrderBy(run => run.First).ThenByDescending(run => run.Last))
        {
            if (run.First == expected)
            {
                chain.Add(run);
                expected = run.Last + 1;
                continue;
            }

            run.Dispose();
            File.Delete(run.Path);
        }

        return chain;
    }

    /// <summary>The oldest <see cref="RunCompaction.FanIn"/> consecutive runs of the smallest tier that has that many, among runs not yet at their largest size.</summary>
    private List<Run>? MergeCandidates()
    {
        List<Run> runs;
        lock (_gate)
        {
            runs = _runs;
        }

        List<Run>? best = null;
        var bestTier = int.MaxValue;
        for (var start = 0; start + _compaction.FanIn <= runs.Count; start++)
        {
            var window = runs.GetRange(start, _compaction.FanIn);
            var tier = _compaction.Tier(window[0].Count);
            if (tier < bestTier && window.All(run => _compaction.Mergeable(run.Count) && _compaction.Tier(run.Count) == tier))
            {
                (best, bestTier) = (window, tier);
            }
        }

        return best;
    }

    /// <summary>One streaming pass over the runs' sorted hashes into a new run; then the new run replaces them.</summary>
    private void Merge(List<Run> inputs)
    {
        var readers = inputs.Select(run => new RunReader(run)).ToList();
        Run merged;
        using (var writer = new RunWriter(Path.Combine(_directory, RunName(inputs[0].First, inputs[^1].Last)), inputs[0].First, inputs[^1].Last, inputs.Sum(run => run.Count)))
        {
            while (true)
            {
                var smallest = -1;
                for (var i = 0; i < readers.Count; i++)
                {
                    if (readers[i].HasCurrent && (smallest < 0 || readers[i].Current.CompareTo(readers[smallest].Current) < 0))
                    {
                        smallest = i;
                    }
                }

                if (smallest < 0)
                {
                    break;
                }

                writer.Add(readers[smallest].Current);
                readers[smallest].MoveNext();
            }

            merged = writer.Finish();
        }

        lock (_gate)
        {
            var at = _runs.IndexOf(inputs[0]);
            var runs = new List<Run>(_runs);
            runs.RemoveRange(at, inputs.Count);
            runs.Insert(at, merged);
            _runs = runs;
            foreach (var input in inputs)
            {
                input.Dispose();
            }
        }

        // After the merged run is in place: a crash before this leaves inputs that the next start recognises as covered.
        foreach (var input in inputs)
        {
            File.Delete(input.Path);
        }
    }

    private Run WriteRun(long first, long last, HashKey[] sorted)
    {
        using var writer = new RunWriter(Path.Combine(_directory, RunName(first, last)), first, last, sorted.Length);
        foreach (var key in sorted)
        {
            writer.Add(key);
        }

        return writer.Finish();
    }

    private static string RunName(long first, long last) =>
        string.Create(CultureInfo.InvariantCulture, $"{first:D19}-{last:D19}{RunExtension}");

    /// <summary>Reads a run's trailer: magic, first and last height, count, then the SHA-256 of the hashes and those fields.</summary>
    private static bool TryReadTrailer(ReadOnlySpan<byte> trailer, out long first, out long last, out long count)
    {
        first = BinaryPrimitives.ReadInt64BigEndian(trailer[8..]);
        last = BinaryPrimitives.ReadInt64BigEndian(trailer[16..]);
        count = BinaryPrimitives.ReadInt64BigEndian(trailer[24..]);
        return trailer[..8].SequenceEqual(Magic) && first >= 1 && last >= first && count >= 0;
    }

    /// <summary>A hash as four big-endian words, so that comparing them orders hashes as their bytes do.</summary>
    private readonly record struct HashKey(ulong W0, ulong W1, ulong W2, ulong W3) : IComparable<HashKey>
    {
        public static HashKey Read(ReadOnlySpan<byte> hash) => new(
            BinaryPrimitives.ReadUInt64BigEndian(hash),
            BinaryPrimitives.ReadUInt64BigEndian(hash[8..]),
            BinaryPrimitives.ReadUInt64BigEndian(hash[16..]),
            BinaryPrimitives.ReadUInt64BigEndian(hash[24..]));

        public void Write(Span<byte> destination)
        {
            BinaryPrimitives.WriteUInt64BigEndian(destination, W0);
            BinaryPrimitives.WriteUInt64BigEndian(destination[8..], W1);
            BinaryPrimitives.WriteUInt64BigEndian(destination[16..], W2);
            BinaryPrimitives.WriteUInt64BigEndian(destination[24..], W3);
        }

        public int CompareTo(HashKey other) =>
            W0 != other.W0 ? W0.CompareTo(other.W0)
            : W1 != other.W1 ? W1.CompareTo(other.W1)
            : W2 != other.W2 ? W2.CompareTo(other.W2)
            : W3.CompareTo(other.W3);
    }

    /// <summary>One immutable run: its file, the heights it covers, and the first word of each page's first hash.</summary>
    private sealed class Run(string path, SafeFileHandle handle, long first, long last, long count, ulong[] fences) : IDisposable
    {
        public string Path { get; } = path;

        public SafeFileHandle Handle { get; } = handle;

        public long First { get; } = first;

        public long Last { get; } = last;

        public long Count { get; } = count;

        /// <summary>Opens and checks a run file in full; null when it is not a whole, sorted run with a true checksum.</summary>
        public static Run? Load(string path)
        {
            var handle = File.OpenHandle(path, FileMode.Open, FileAccess.Read);
            try
            {
                if (Check(handle) is { } run)
                {
                    return new Run(path, handle, run.First, run.Last, run.Count, run.Fences);
                }
            }
            catch
            {
                handle.Dispose();
                throw;
            }

            handle.Dispose();
            return null;
        }

        /// <summary>The trailer's heights and count and the page fences, if the trailer fits the file, the hashes ascend and the checksum holds.</summary>
        private static (long First, long Last, long Count, ulong[] Fences)? Check(SafeFileHandle handle)
        {
            var length = RandomAccess.GetLength(handle);
            var trailer = new byte[TrailerSize];
            if (length < TrailerSize || (length - TrailerSize) % HashSize != 0
                || RandomAccess.Read(handle, trailer, length - TrailerSize) != TrailerSize
                || !TryReadTrailer(trailer, out var first, out var last, out var count)
                || count != (length - TrailerSize) / HashSize)
            {
                return null;
            }

            using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var fences = new ulong[(count + PageHashes - 1) / PageHashes];
            HashKey? previous = null;
            long index = 0;
            foreach (var chunk in Chunks(handle, count, new byte[StreamBuffer]))
            {
                sha.AppendData(chunk.Span);
                for (var at = 0; at < chunk.Length; at += HashSize, index++)
                {
                    var key = HashKey.Read(chunk.Span.Slice(at, HashSize));
                    if (previous is { } before && before.CompareTo(key) >= 0)
                    {
                        return null;
                    }

                    if (index % PageHashes == 0)
                    {
                        fences[index / PageHashes] = key.W0;
                    }

                    previous = key;
                }
            }

            sha.AppendData(trailer.AsSpan(0, 32));
            return sha.GetHashAndReset().AsSpan().SequenceEqual(trailer.AsSpan(32)) ? (first, last, count, fences) : null;
        }

        /// <summary>
        /// Reads the pages that can hold the hash: the one before the first page whose fence is not below the hash's
        /// first word, and any that start with that same word (hashes can share eight bytes across a page boundary).
        /// </summary>
        public bool Contains(ReadOnlySpan<byte> hash, byte[] page)
        {
            var key = HashKey.Read(hash);
            var firstNotBelow = LowerBound(key.W0);
            for (var p = Math.Max(firstNotBelow - 1, 0); p < fences.Length && (p < firstNotBelow || fences[p] == key.W0); p++)
            {
                var inPage = (int)Math.Min(PageHashes, Count - ((long)p * PageHashes));
                var span = page.AsSpan(0, inPage * HashSize);
                RandomAccess.Read(Handle, span, (long)p * PageHashes * HashSize);
                int low = 0, high = inPage - 1;
                while (low <= high)
                {
                    var middle = (low + high) >>> 1;
                    var order = HashKey.Read(span.Slice(middle * HashSize, HashSize)).CompareTo(key);
                    if (order == 0)
                    {
                        return true;
                    }

                    (low, high) = order < 0 ? (middle + 1, high) : (low, middle - 1);
                }
            }

            return false;
        }

        public void Dispose() => Handle.Dispose();

        private int LowerBound(ulong word)
        {
            int low = 0, high = fences.Length;
            while (low < high)
            {
                var middle = (low + high) >>> 1;
                (low, high) = fences[middle] < word ? (middle + 1, high) : (low, middle);
            }

            return low;
        }
    }

    /// <summary>Streams a new run to a partial file, checksumming as it goes; <see cref="Finish"/> renames it into place.</summary>
    private sealed class RunWriter : IDisposable
    {
        private readonly string _path;
        private readonly long _first;
        private readonly long _last;
        private readonly FileStream _stream;
        private readonly IncrementalHash _sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private readonly List<ulong> _fences = [];

        // Hashes are written and checksummed a buffer at a time: a write and a call into OpenSSL for each 32-byte
        // hash cost more than the hashing itself (docs/BENCHMARKS.md, the index writer).
        private readonly byte[] _pending;
        private int _pendingBytes;
        private HashKey? _previous;
        private long _count;
        private bool _finished;

        /// <param name="path">Where the run goes once finished.</param>
        /// <param name="first">The first height the run covers.</param>
        /// <param name="last">The last height the run covers.</param>
        /// <param name="hashes">At most how many hashes will be added: sizes the write buffer.</param>
        public RunWriter(string path, long first, long last, long hashes)
        {
            (_path, _first, _last) = (path, first, last);
            _pending = new byte[(int)Math.Clamp(hashes, 1, StreamBuffer / HashSize) * HashSize];
            _stream = new FileStream(path + PartialExtension, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 0);
        }

        /// <summary>Adds the next hash; one equal to the last is written once.</summary>
        public void Add(HashKey key)
        {
            if (_previous is { } previous && previous.CompareTo(key) >= 0)
            {
                return;
            }

            if (_count % PageHashes == 0)
            {
                _fences.Add(key.W0);
            }

            key.Write(_pending.AsSpan(_pendingBytes, HashSize));
            _pendingBytes += HashSize;
            if (_pendingBytes == _pending.Length)
            {
                WritePending();
            }

            _previous = key;
            _count++;
        }

        public Run Finish()
        {
            WritePending();
            Span<byte> trailer = stackalloc byte[TrailerSize];
            Magic.CopyTo(trailer);
            BinaryPrimitives.WriteInt64BigEndian(trailer[8..], _first);
            BinaryPrimitives.WriteInt64BigEndian(trailer[16..], _last);
            BinaryPrimitives.WriteInt64BigEndian(trailer[24..], _count);
            _sha.AppendData(trailer[..32]);
            _sha.GetHashAndReset(trailer[32..]);
            _stream.Write(trailer);
            _stream.Flush(flushToDisk: true);
            _stream.Dispose();
            File.Move(_path + PartialExtension, _path, overwrite: true);
            _finished = true;
            return new Run(_path, File.OpenHandle(_path, FileMode.Open, FileAccess.Read), _first, _last, _count, [.. _fences]);
        }

        private void WritePending()
        {
            var filled = _pending.AsSpan(0, _pendingBytes);
            _stream.Write(filled);
            _sha.AppendData(filled);
            _pendingBytes = 0;
        }

        public void Dispose()
        {
            _stream.Dispose();
            _sha.Dispose();
            if (!_finished)
            {
                File.Delete(_path + PartialExtension);
            }
        }
    }

    /// <summary>Reads a run's hashes in order, through a large buffer.</summary>
    private sealed class RunReader
    {
        private readonly byte[] _buffer;
        private readonly IEnumerator<ReadOnlyMemory<byte>> _chunks;
        private int _at;
        private int _end;

        public RunReader(Run run)
        {
            _buffer = new byte[(int)Math.Clamp(run.Count, 1, StreamBuffer / HashSize) * HashSize];
            _chunks = Chunks(run.Handle, run.Count, _buffer).GetEnumerator();
            MoveNext();
        }

        public bool HasCurrent { get; private set; }

        public HashKey Current { get; private set; }

        public void MoveNext()
        {
            if (_at == _end)
            {
                if (!_chunks.MoveNext())
                {
                    HasCurrent = false;
                    return;
                }

                (_at, _end) = (0, _chunks.Current.Length);
            }

            Current = HashKey.Read(_buffer.AsSpan(_at, HashSize));
            _at += HashSize;
            HasCurrent = true;
        }
    }
}

/// <summary>Receives one indexed hash at a time from <see cref="TransactionIndexFiles.ForEachHash"/>.</summary>
public delegate void HashVisitor(ReadOnlySpan<byte> hash);

/// <summary>
/// When runs of the transaction index merge. A run's tier is the power of <see cref="FanIn"/> its size reaches above
/// <see cref="TierBase"/>; <see cref="FanIn"/> consecutive runs of one tier merge into one. A run larger than
/// <see cref="MaxRunRows"/> ÷ <see cref="FanIn"/> merges no more, which bounds the size (and time) of a merge.
/// </summary>
/// <param name="FanIn">How many runs merge at once.</param>
/// <param name="TierBase">The size below which every run is in the lowest tier.</param>
/// <param name="MaxRunRows">The largest run a merge makes.</param>
public sealed record RunCompaction(int FanIn, long TierBase, long MaxRunRows)
{
    /// <summary>
    /// Runs of up to 4 million hashes (128 MiB): at 15,000 commands/s a 2 s batch is ~30,000 hashes, 8 batches merge
    /// into ~240,000 and 8 of those into ~1.9 million, which merge no more. A chain of 100 million transactions has ~50
    /// such runs and fewer than 8 in each smaller tier.
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
