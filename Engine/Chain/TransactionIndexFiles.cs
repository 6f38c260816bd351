using System.Globalization;
using static IdOS.Akka.Engine.Chain.IndexRunFormat;

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
    private readonly string _directory;
    private readonly RunCompaction _compaction;
    private readonly Lock _gate = new();
    private readonly byte[] _page = new byte[PageHashes * HashSize];
    private List<IndexRun> _runs;
    private bool _disposed;

    private TransactionIndexFiles(string directory, RunCompaction compaction, List<IndexRun> runs)
    {
        _directory = directory;
        _compaction = compaction;
        _runs = runs;
    }

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

        var loaded = new List<IndexRun>();
        foreach (var file in Directory.EnumerateFiles(directory, "*" + RunExtension))
        {
            if (IndexRun.Load(file) is { } run)
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

    private static long Top(List<IndexRun> runs) => runs.Count == 0 ? 0 : runs[^1].Last;

    /// <summary>
    /// The runs that chain from height 1 without a gap. A run inside another's heights is the leftover input of a merge
    /// that finished; a run past a gap, or overlapping another, lost what came before it and goes with the gap.
    /// </summary>
    private static List<IndexRun> Contiguous(List<IndexRun> loaded)
    {
        var chain = new List<IndexRun>();
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
    private List<IndexRun>? MergeCandidates()
    {
        List<IndexRun> runs;
        lock (_gate)
        {
            runs = _runs;
        }

        List<IndexRun>? best = null;
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
    private void Merge(List<IndexRun> inputs)
    {
        var readers = inputs.Select(run => new IndexRunReader(run)).ToList();
        IndexRun merged;
        using (var writer = new IndexRunWriter(Path.Combine(_directory, RunName(inputs[0].First, inputs[^1].Last)), inputs[0].First, inputs[^1].Last, inputs.Sum(run => run.Count)))
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
            var runs = new List<IndexRun>(_runs);
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

    private IndexRun WriteRun(long first, long last, HashKey[] sorted)
    {
        using var writer = new IndexRunWriter(Path.Combine(_directory, RunName(first, last)), first, last, sorted.Length);
        foreach (var key in sorted)
        {
            writer.Add(key);
        }

        return writer.Finish();
    }

    private static string RunName(long first, long last) =>
        string.Create(CultureInfo.InvariantCulture, $"{first:D19}-{last:D19}{RunExtension}");
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
