using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Chain;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Bench.Micro.Node;

/// <summary>
/// What the transaction-index writer pays in the cluster benchmark at block 400: batches of 30,000 hashes (2 s at
/// 15,000 commands/s), sixteen of them into a new index with the merges they cause, and what a lookup the in-memory
/// filter could not answer costs once they are in.
/// </summary>
public class TransactionIndexBenchmarks : IDisposable
{
    private const int Batches = 16;
    private const int BatchHashes = 30_000;
    private byte[][] _batches = null!;
    private string _directory = null!;
    private TransactionIndexFiles _filled = null!;
    private TransactionIndexFiles? _fresh;
    private int _freshFiles;
    private byte[] _absent = null!;

    [GlobalSetup]
    public void Setup()
    {
        _batches = [.. Enumerable.Range(0, Batches).Select(Batch)];
        _absent = Hash32.Compute("absent"u8).ToArray();
        _directory = Directory.CreateTempSubdirectory("idos-bench-index-").FullName;
        _filled = TransactionIndexFiles.Open(Path.Combine(_directory, "filled"));
        IndexAll(_filled);
    }

    [IterationSetup(Target = nameof(IndexSixteenBatches))]
    public void FreshIndex()
    {
        _fresh?.Dispose();
        _fresh = TransactionIndexFiles.Open(Path.Combine(_directory, $"fresh-{_freshFiles++}"));
    }

    [GlobalCleanup]
    public void Dispose()
    {
        _fresh?.Dispose();
        _filled?.Dispose();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        GC.SuppressFinalize(this);
    }

    /// <summary>480,000 hashes, one batch after another; divide by 480,000 for a hash's share.</summary>
    [Benchmark]
    public long IndexSixteenBatches() => IndexAll(_fresh!);

    [Benchmark]
    public bool LookUpAbsentHashAmong480000() => _filled.ContainsTransaction(_absent);

    private static byte[] Batch(int batch)
    {
        var hashes = new byte[BatchHashes * Hash32.Size];
        for (var i = 0; i < BatchHashes; i++)
        {
            Hash32.Compute(BitConverter.GetBytes(((long)batch * BatchHashes) + i)).WriteTo(hashes.AsSpan(i * Hash32.Size));
        }

        return hashes;
    }

    private long IndexAll(TransactionIndexFiles index)
    {
        for (var batch = 0; batch < Batches; batch++)
        {
            index.IndexTransactions([(batch + 1, _batches[batch])]);
            index.Compact();
        }

        return index.IndexedHeight();
    }
}
