using System.Runtime.InteropServices;

namespace IdOS.Akka.Engine.Kwil.Crypto;

/// <summary>
/// Transactions whose signature this node has already checked, by the SHA-256 of their bytes: the mempool checks
/// every transaction it admits, so execution need not check the same bytes again. Bounded by two generations of
/// <see cref="GenerationSize"/> hashes; a transaction that aged out is simply checked again. A hash is kept as its
/// 32 bytes in a value, not as text: the set is asked once for every transaction a block executes.
/// </summary>
public sealed class VerifiedSignatures
{
    public const int GenerationSize = 100_000;

    private readonly RecentSet<Digest> _hashes = new(GenerationSize);

    public void Add(ReadOnlySpan<byte> transactionHash) => _hashes.Add(Digest.Of(transactionHash));

    public bool Contains(ReadOnlySpan<byte> transactionHash) => _hashes.Contains(Digest.Of(transactionHash));

    private readonly record struct Digest(ulong A, ulong B, ulong C, ulong D)
    {
        public static Digest Of(ReadOnlySpan<byte> hash)
        {
            if (hash.Length != 32)
            {
                throw new ArgumentException($"A transaction hash is 32 bytes, not {hash.Length}.", nameof(hash));
            }

            var words = MemoryMarshal.Cast<byte, ulong>(hash);
            return new Digest(words[0], words[1], words[2], words[3]);
        }
    }
}
