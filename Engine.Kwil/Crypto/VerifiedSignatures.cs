using System.Runtime.InteropServices;
using IdOS.Akka.Engine.Kwil.Transactions;

namespace IdOS.Akka.Engine.Kwil.Crypto;

/// <summary>
/// Transactions whose signature this node has already checked, by the SHA-256 of their bytes: the mempool checks
/// every transaction it admits, so execution need not check the same bytes again. Bounded by two generations of
/// <see cref="GenerationSize"/> hashes; a transaction that aged out is simply checked again. A hash is kept as its
/// 32 bytes in a value, not as text: the set is asked once for every transaction a block executes. The decoded form
/// the check produced is kept too, for execution to take instead of decoding the bytes again, in fewer generations
/// (<see cref="DecodedGenerationSize"/>): it weighs about twice the bytes, and one that aged out is decoded again.
/// </summary>
public sealed class VerifiedSignatures
{
    public const int GenerationSize = 100_000;
    public const int DecodedGenerationSize = 10_000;

    private readonly RecentSet<Digest> _hashes = new(GenerationSize);
    private readonly RecentMap<Digest, KwilTransaction> _decoded = new(DecodedGenerationSize);

    /// <summary>Notes the signature of the transaction with this hash as checked, and keeps what its bytes decoded to.</summary>
    public void Add(ReadOnlySpan<byte> transactionHash, KwilTransaction decoded)
    {
        var digest = Digest.Of(transactionHash);
        _hashes.Add(digest);
        _decoded.Add(digest, decoded);
    }

    public bool Contains(ReadOnlySpan<byte> transactionHash) => _hashes.Contains(Digest.Of(transactionHash));

    /// <summary>The decoded form kept by <see cref="Add(ReadOnlySpan{byte}, KwilTransaction)"/>, handed over once.</summary>
    public bool TryTakeDecoded(ReadOnlySpan<byte> transactionHash, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out KwilTransaction? decoded) =>
        _decoded.TryTake(Digest.Of(transactionHash), out decoded);

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
