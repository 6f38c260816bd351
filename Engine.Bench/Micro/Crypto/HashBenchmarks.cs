using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using IdOS.Akka.Engine.Crypto;

namespace IdOS.Akka.Engine.Bench.Micro.Crypto;

/// <summary>
/// SHA-256 as a validator uses it: many short inputs (a 32-byte command, a Merkle node), where OpenSSL's per-call work
/// outweighs the hashing, through a new context per call (`SHA256.HashData`) and through the thread's kept one
/// (`Hash32.Compute`).
/// </summary>
public class HashBenchmarks
{
    private readonly byte[] _digest = new byte[Hash32.Size];
    private byte[] _input = null!;

    /// <summary>A command of the null application (32), a binary Merkle node (65), a node of fan-out 16 (513).</summary>
    [Params(32, 65, 513)]
    public int Bytes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _input = [.. Enumerable.Range(0, Bytes).Select(i => (byte)i)];
    }

    [Benchmark(Baseline = true)]
    public byte[] NewContextPerCall()
    {
        SHA256.HashData(_input, _digest);
        return _digest;
    }

    [Benchmark]
    public Hash32 KeptContext() => Hash32.Compute(_input);
}
